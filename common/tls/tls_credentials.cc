#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tcc/common/status_macros.h"
#include "tcc/common/tls.h"

namespace tcc {
namespace {

using ::grpc::experimental::FileWatcherCertificateProvider;

// A certificate file holds "-----BEGIN CERTIFICATE-----"; a key file
// "-----BEGIN PRIVATE KEY-----", "... RSA PRIVATE KEY-----", "... EC ...".
constexpr char kCertificateMarker[] = "-----BEGIN CERTIFICATE-----";
constexpr char kKeyMarker[] = "PRIVATE KEY-----";

absl::Status CheckPemFile(const std::string& path, const std::string& name, const char* marker,
                          const char* what) {
  std::ifstream in(path);
  if (!in) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": cannot read \"", path,
                                                   "\": ", std::strerror(errno),
                                                   "; give a readable PEM file"));
  }
  std::stringstream content;
  content << in.rdbuf();
  if (!absl::StrContains(content.str(), marker)) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": \"", path, "\" holds no PEM ", what, " (no \"", marker, "\")"));
  }
  return absl::OkStatus();
}

absl::Status CheckCombination(const TlsOptions& options) {
  if (options.cert_file.empty() != options.key_file.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "give ", options.names.cert, " and ", options.names.key, " together (one is missing)"));
  }
  if (options.require_client_cert && options.ca_file.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("mutual TLS needs ", options.names.ca,
                     ": the CA bundle client certificates must chain to"));
  }
  return absl::OkStatus();
}

unsigned int RefreshSeconds(const TlsOptions& options) {
  return static_cast<unsigned int>(
      std::max<int64_t>(1, absl::ToInt64Seconds(options.refresh_interval)));
}

// One watcher for whichever of identity and roots are given.
std::shared_ptr<FileWatcherCertificateProvider> WatchFiles(const TlsOptions& options) {
  return std::make_shared<FileWatcherCertificateProvider>(options.key_file, options.cert_file,
                                                          options.ca_file, RefreshSeconds(options));
}

}  // namespace

absl::Status ValidateTlsFiles(const TlsOptions& options) {
  TCC_RETURN_IF_ERROR(CheckCombination(options));
  if (!options.cert_file.empty()) {
    TCC_RETURN_IF_ERROR(
        CheckPemFile(options.cert_file, options.names.cert, kCertificateMarker, "certificate"));
    TCC_RETURN_IF_ERROR(
        CheckPemFile(options.key_file, options.names.key, kKeyMarker, "private key"));
  }
  if (!options.ca_file.empty()) {
    TCC_RETURN_IF_ERROR(
        CheckPemFile(options.ca_file, options.names.ca, kCertificateMarker, "CA certificate"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const TlsOptions& options) {
  if (!options.enabled()) return grpc::InsecureServerCredentials();
  if (options.cert_file.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("serving TLS needs ", options.names.cert, " and ", options.names.key));
  }
  TCC_RETURN_IF_ERROR(ValidateTlsFiles(options));
  grpc::experimental::TlsServerCredentialsOptions tls(WatchFiles(options));
  tls.watch_identity_key_cert_pairs();
  if (options.ca_file.empty()) {
    tls.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  } else {
    tls.watch_root_certs();
    tls.set_cert_request_type(options.require_client_cert
                                  ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                                  : GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
  }
  return grpc::experimental::TlsServerCredentials(tls);
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(
    const TlsOptions& options) {
  if (!options.enabled()) return grpc::InsecureChannelCredentials();
  TCC_RETURN_IF_ERROR(ValidateTlsFiles(options));
  grpc::experimental::TlsChannelCredentialsOptions tls;
  tls.set_certificate_provider(WatchFiles(options));  // enabled(): a CA or a pair, validated
  if (!options.cert_file.empty()) tls.watch_identity_key_cert_pairs();
  if (!options.ca_file.empty()) tls.watch_root_certs();
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::experimental::TlsCredentials(tls);
  if (credentials == nullptr) {
    return absl::InternalError("gRPC refused the TLS channel options");
  }
  return credentials;
}

}  // namespace tcc
