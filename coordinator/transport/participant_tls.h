// Which credentials tccd uses for each participant and status endpoint it
// calls. Rules, in order:
//  1. the target's line in the overrides file (--participant_tls_overrides):
//     its own CA and, optionally, client certificate, or `plaintext`;
//  2. otherwise the defaults (--participant_ca, --participant_cert,
//     --participant_key): TLS to every target once any of them is given;
//  3. otherwise plaintext.
// A target is matched exactly as written in the branch (or the GT's
// status_endpoint), e.g. "pay.internal:50051": the TLS check needs the
// certificate to name that host (DNS or IP SAN). `required` refuses, at
// start, any configuration under which some target would be plaintext.
//
// Overrides file: one target per line, `#` starts a comment:
//   pay.internal:50051   ca=/etc/tcc/pay-ca.pem cert=/etc/tcc/tccd.pem key=/etc/tcc/tccd.key
//   127.0.0.1:50070      plaintext
// A line replaces the defaults for its target entirely (no inheritance).
//
// Credentials are built once per line and once for the defaults; their
// files are watched (see tcc/common/tls.h). Thread-safe after Create.
#pragma once

#include <grpcpp/security/credentials.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tcc/common/tls.h"

namespace tcc {

struct ParticipantTlsConfig {
  TlsOptions defaults;
  std::string overrides_file;  // empty: none
  bool required = false;
};

struct TlsOverride {
  std::string target;
  bool plaintext = false;
  TlsOptions tls;
};

// Parses the overrides file's text; errors name `file` and the line.
absl::StatusOr<std::vector<TlsOverride>> ParseTlsOverrides(absl::string_view text,
                                                           const std::string& file);

class ParticipantCredentials {
 public:
  // Validates every file named and builds the credentials; INVALID_ARGUMENT
  // naming the flag, file or line otherwise.
  static absl::StatusOr<std::unique_ptr<ParticipantCredentials>> Create(
      const ParticipantTlsConfig& config);
  // Plaintext to every target (tests, and tccd without participant TLS).
  static std::unique_ptr<ParticipantCredentials> Plaintext();

  std::shared_ptr<grpc::ChannelCredentials> For(const std::string& target) const;
  // "TLS", "mutual TLS" or "plaintext" for the defaults, and the number of
  // overrides: for the start-up log line.
  std::string Describe() const;

 private:
  ParticipantCredentials() = default;

  std::shared_ptr<grpc::ChannelCredentials> defaults_;
  std::string defaults_mode_ = "plaintext";
  absl::flat_hash_map<std::string, std::shared_ptr<grpc::ChannelCredentials>> overrides_;
};

}  // namespace tcc
