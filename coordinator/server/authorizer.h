// The one gate every handler of tccd's Coordinator and Admin services
// passes first: who is calling (a bearer token in the `authorization`
// metadata, else the mutual-TLS certificate's identities) and whether the
// auth file (auth_policy.h) grants them the role the method needs.
// Refusals come before any work, so a refused call changes nothing:
// UNAUTHENTICATED for a missing or unknown credential, PERMISSION_DENIED
// for a known caller without the role; the message says what to do.
//
// Without an auth file authorization is off (every call passes, as
// before), and operator actions carry only the name the caller declared.
// Reload() re-reads the file (tccd does on SIGHUP); a file that no longer
// parses leaves the previous policy in force. Tokens are never logged.
// Thread-safe.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "coordinator/auth/auth_policy.h"
#include "tcc/common/mutex.h"

namespace tcc {

// Who made a call, as far as tccd knows.
struct Principal {
  // The caller's name in the auth file; empty when authorization is off.
  std::string name;

  bool authenticated() const { return !name.empty(); }
  // The actor an operator action is recorded under: the authenticated
  // name, or (authorization off) `declared` marked as self-declared.
  std::string OperatorActor(absl::string_view declared) const;
};

class Authorizer {
 public:
  // Empty `auth_file`: authorization off. INVALID_ARGUMENT for a file that
  // cannot be read or parsed.
  static absl::StatusOr<std::unique_ptr<Authorizer>> Create(std::string auth_file);

  bool enabled() const { return !file_.empty(); }

  // Whether the call may do what `method` (e.g. "Admin.Resolve") does,
  // which needs `role`.
  absl::StatusOr<Principal> Authorize(const grpc::CallbackServerContext& context, Role role,
                                      absl::string_view method) const;

  // Re-reads the auth file; on error the previous policy stays.
  absl::Status Reload();

 private:
  Authorizer(std::string file, std::shared_ptr<const AuthPolicy> policy)
      : file_(std::move(file)), policy_(std::move(policy)) {}

  std::shared_ptr<const AuthPolicy> policy() const;

  const std::string file_;
  mutable tcc::Mutex mu_;
  std::shared_ptr<const AuthPolicy> policy_ ABSL_GUARDED_BY(mu_);
};

// The token and certificate identities a call presents.
Credentials CredentialsOf(const grpc::CallbackServerContext& context);

// Finishes the call's default reactor with `refusal`; for handlers.
grpc::ServerUnaryReactor* Refuse(grpc::CallbackServerContext* context, const absl::Status& refusal);

}  // namespace tcc
