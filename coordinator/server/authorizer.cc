#include "coordinator/server/authorizer.h"

#include <grpc/grpc_security_constants.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tcc/common/grpc_status.h"
#include "tcc/common/logging.h"
#include "tcc/common/status_macros.h"

namespace tcc {
namespace {

constexpr absl::string_view kBearer = "bearer ";

void AddIdentities(const grpc::AuthContext& auth, const char* property, absl::string_view prefix,
                   std::vector<std::string>& identities) {
  for (const grpc::string_ref& value : auth.FindPropertyValues(property)) {
    identities.push_back(absl::StrCat(prefix, absl::string_view(value.data(), value.size())));
  }
}

}  // namespace

std::string Principal::OperatorActor(absl::string_view declared) const {
  if (authenticated()) return name;
  return absl::StrCat(declared.empty() ? "unknown" : declared, " (self-declared)");
}

absl::StatusOr<std::unique_ptr<Authorizer>> Authorizer::Create(std::string auth_file) {
  std::shared_ptr<const AuthPolicy> policy;
  if (!auth_file.empty()) {
    TCC_ASSIGN_OR_RETURN(AuthPolicy loaded, AuthPolicy::Load(auth_file));
    spdlog::info("authorization on: {} callers from {}", loaded.size(), auth_file);
    policy = std::make_shared<const AuthPolicy>(std::move(loaded));
  }
  return std::unique_ptr<Authorizer>(new Authorizer(std::move(auth_file), std::move(policy)));
}

std::shared_ptr<const AuthPolicy> Authorizer::policy() const {
  tcc::MutexLock lock(&mu_);
  return policy_;
}

absl::Status Authorizer::Reload() {
  if (!enabled()) return absl::OkStatus();
  absl::StatusOr<AuthPolicy> loaded = AuthPolicy::Load(file_);
  if (!loaded.ok()) {
    spdlog::error("auth file not reloaded, the previous one stays in force: {}",
                  loaded.status().message());
    return loaded.status();
  }
  spdlog::info("auth file reloaded: {} callers from {}", loaded->size(), file_);
  auto fresh = std::make_shared<const AuthPolicy>(*std::move(loaded));
  tcc::MutexLock lock(&mu_);
  policy_ = std::move(fresh);
  return absl::OkStatus();
}

absl::StatusOr<Principal> Authorizer::Authorize(const grpc::CallbackServerContext& context,
                                                Role role, absl::string_view method) const {
  if (!enabled()) return Principal{};
  std::shared_ptr<const AuthPolicy> current = policy();
  absl::StatusOr<const Caller*> caller = current->Authenticate(CredentialsOf(context));
  if (!caller.ok()) {
    return absl::UnauthenticatedError(
        absl::StrCat(method, " needs the ", RoleName(role), " role; ", caller.status().message()));
  }
  if (!(*caller)->Has(role)) {
    return absl::PermissionDeniedError(absl::StrCat(
        method, " needs the ", RoleName(role), " role; caller \"", (*caller)->name, "\" has ",
        (*caller)->RoleList(), ". Grant it in tccd's --auth_file (then SIGHUP tccd)"));
  }
  return Principal{(*caller)->name};
}

Credentials CredentialsOf(const grpc::CallbackServerContext& context) {
  Credentials credentials;
  const auto& metadata = context.client_metadata();
  auto header = metadata.find("authorization");
  if (header != metadata.end()) {
    absl::string_view value(header->second.data(), header->second.size());
    credentials.has_token = true;
    if (value.size() > kBearer.size() &&
        absl::EqualsIgnoreCase(value.substr(0, kBearer.size()), kBearer)) {
      credentials.token = std::string(absl::StripAsciiWhitespace(value.substr(kBearer.size())));
    }
  }
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth != nullptr && auth->IsPeerAuthenticated()) {
    AddIdentities(*auth, GRPC_PEER_URI_PROPERTY_NAME, "uri:", credentials.identities);
    AddIdentities(*auth, GRPC_PEER_DNS_PROPERTY_NAME, "dns:", credentials.identities);
    AddIdentities(*auth, GRPC_X509_CN_PROPERTY_NAME, "cn:", credentials.identities);
  }
  return credentials;
}

grpc::ServerUnaryReactor* Refuse(grpc::CallbackServerContext* context,
                                 const absl::Status& refusal) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(refusal));
  return reactor;
}

}  // namespace tcc
