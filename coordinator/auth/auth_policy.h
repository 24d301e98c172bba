// Who may do what on tccd's gRPC port: the callers named in the auth file
// (tccd --auth_file), each known by certificate identities and/or bearer
// token hashes, and the roles each holds. Pure data and lookups, no gRPC:
// the server's Authorizer turns a call into Credentials and asks here.
//
// The file is JSON:
//   {"callers": [
//     {"name": "shop", "roles": ["initiator"],
//      "identities": ["uri:spiffe://example.org/shop", "dns:shop.internal"]},
//     {"name": "alice", "roles": ["operator"],
//      "token_sha256": ["<64 hex digits: tccd --hash_token>"]}]}
// Identities are "uri:" (a URI SAN, e.g. a SPIFFE id), "dns:" (a DNS SAN)
// or "cn:" (the subject's common name) of a client certificate. Tokens are
// stored only as SHA-256 hex, so the file does not hand out credentials.
//
// Roles: initiator (the Coordinator API), viewer (Admin reads), operator
// (RetryNow and Resolve; implies viewer). An AuthPolicy is immutable once
// parsed; share it freely between threads.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tcc {

enum class Role : uint8_t { kInitiator = 1, kViewer = 2, kOperator = 4 };

// "initiator", "viewer", "operator".
absl::string_view RoleName(Role role);

struct Caller {
  std::string name;
  // Role bits, as given (operator's implied viewer is applied by Has).
  uint8_t roles = 0;

  bool Has(Role role) const;
  // "initiator, viewer", for messages.
  std::string RoleList() const;
};

// What one call presented, as the server extracted it.
struct Credentials {
  // The bearer token, when the call had `authorization: Bearer ...`.
  std::string token;
  bool has_token = false;
  // The client certificate's identities, most specific first
  // ("uri:...", "dns:...", "cn:..."); empty without a certificate.
  std::vector<std::string> identities;
};

class AuthPolicy {
 public:
  // Parses the file's text; `source` names it in errors. INVALID_ARGUMENT
  // saying what is wrong and where.
  static absl::StatusOr<AuthPolicy> Parse(absl::string_view json, absl::string_view source);
  static absl::StatusOr<AuthPolicy> Load(const std::string& path);

  // The caller the credentials identify. A token, when present, decides
  // (an unknown token is refused even beside a known certificate);
  // otherwise the first certificate identity listed in the file.
  // UNAUTHENTICATED naming what was missing or unknown.
  absl::StatusOr<const Caller*> Authenticate(const Credentials& credentials) const;

  size_t size() const { return callers_.size(); }

 private:
  absl::Status Add(Caller caller, const std::vector<std::string>& identities,
                   const std::vector<std::string>& token_hashes, absl::string_view where);

  std::vector<Caller> callers_;
  // Values index callers_.
  absl::flat_hash_map<std::string, size_t> by_identity_;
  absl::flat_hash_map<std::string, size_t> by_token_hash_;
};

// Lower-case hex SHA-256 of `token`: what the file stores.
std::string HashToken(absl::string_view token);

}  // namespace tcc
