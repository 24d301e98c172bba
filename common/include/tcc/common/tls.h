// TLS for every gRPC hop (tccd's port, tccd's calls to participants and
// status endpoints, the SDK's servers and clients, tccctl): PEM files on
// disk turned into gRPC credentials. The files are watched, not read once:
// gRPC's FileWatcherCertificateProvider re-reads certificate, key and CA
// every `refresh_interval`, so a rotated certificate is served to new
// connections without a restart (replace key and certificate atomically,
// e.g. by swapping a symlink to their directory: the watcher may otherwise
// read a new key with the old certificate, and then keeps the old pair).
//
// Missing, unreadable or non-PEM files are refused up front with a message
// naming the file and the flag it came from (TlsOptions::names), instead of
// a handshake failure later. Stateless functions; thread-safe.
#pragma once

#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace tcc {

struct TlsOptions {
  // Our own certificate chain and private key (PEM). A server needs both; a
  // client gives them only for mutual TLS.
  std::string cert_file;
  std::string key_file;
  // CA bundle (PEM) the peer's certificate must chain to. A server: the
  // clients' CAs (mutual TLS). A client: the server's CAs; empty uses the
  // system's roots.
  std::string ca_file;
  // Server only: every client must present a certificate that chains to
  // ca_file (mutual TLS). Needs ca_file.
  bool require_client_cert = false;
  // How often the files are re-read; whole seconds, at least one.
  absl::Duration refresh_interval = absl::Seconds(60);
  // How the three files are called in error messages: the flags or
  // variables they came from, e.g. "--tls_cert"; by default the fields.
  struct Names {
    std::string cert = "TlsOptions::cert_file";
    std::string key = "TlsOptions::key_file";
    std::string ca = "TlsOptions::ca_file";
  } names;

  // Any file given: the caller wants TLS.
  bool enabled() const { return !cert_file.empty() || !key_file.empty() || !ca_file.empty(); }
};

// Every file given exists, is readable and holds the right kind of PEM
// block; certificate and key come together; mutual TLS has a CA.
// INVALID_ARGUMENT naming the file and its flag otherwise.
absl::Status ValidateTlsFiles(const TlsOptions& options);

// TLS when options.enabled() (a certificate and key are then required),
// plaintext otherwise. Validates first (ValidateTlsFiles).
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const TlsOptions& options);

// TLS when options.enabled(), plaintext otherwise. The server's certificate
// must chain to ca_file (or the system roots) and name the host of the
// target (a DNS or IP SAN). Validates first.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(
    const TlsOptions& options);

}  // namespace tcc
