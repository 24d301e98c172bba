#include "coordinator/auth/auth_policy.h"

#include <openssl/evp.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tcc/common/status_macros.h"

namespace tcc {
namespace {

using Json = nlohmann::json;

constexpr size_t kMaxNameBytes = 100;
constexpr Role kRoles[] = {Role::kInitiator, Role::kViewer, Role::kOperator};

absl::Status Invalid(absl::string_view where, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(where, ": ", what));
}

absl::StatusOr<std::vector<std::string>> Strings(const Json& caller, const char* key,
                                                 absl::string_view where) {
  std::vector<std::string> values;
  if (!caller.contains(key)) return values;
  const Json& list = caller.at(key);
  if (!list.is_array()) return Invalid(where, absl::StrCat("\"", key, "\" must be a list"));
  for (const Json& value : list) {
    if (!value.is_string()) {
      return Invalid(where, absl::StrCat("\"", key, "\" must list strings"));
    }
    values.push_back(value.get<std::string>());
  }
  return values;
}

absl::StatusOr<uint8_t> ParseRoles(const std::vector<std::string>& names, absl::string_view where) {
  uint8_t roles = 0;
  for (const std::string& name : names) {
    bool known = false;
    for (Role role : kRoles) {
      if (name == RoleName(role)) {
        roles |= static_cast<uint8_t>(role);
        known = true;
      }
    }
    if (!known) {
      return Invalid(
          where, absl::StrCat("unknown role \"", name, "\"; use initiator, viewer or operator"));
    }
  }
  if (roles == 0) return Invalid(where, "\"roles\" is missing or empty");
  return roles;
}

absl::Status CheckName(const std::string& name, absl::string_view where) {
  if (name.empty() || name.size() > kMaxNameBytes) {
    return Invalid(where, "\"name\" must be 1 to 100 characters");
  }
  for (char c : name) {
    if (!absl::ascii_isgraph(static_cast<unsigned char>(c)) && c != ' ') {
      return Invalid(where, "\"name\" must be printable ASCII (it is shown in the timeline)");
    }
  }
  return absl::OkStatus();
}

absl::Status CheckIdentity(const std::string& identity, absl::string_view where) {
  for (absl::string_view prefix : {"uri:", "dns:", "cn:"}) {
    if (absl::StartsWith(identity, prefix) && identity.size() > prefix.size()) {
      return absl::OkStatus();
    }
  }
  return Invalid(where, absl::StrCat("identity \"", identity,
                                     "\" must start with uri:, dns: or cn: (e.g. "
                                     "uri:spiffe://example.org/shop)"));
}

absl::Status CheckTokenHash(const std::string& hash, absl::string_view where) {
  bool hex = hash.size() == 64;
  for (char c : hash) hex = hex && (absl::ascii_isdigit(c) || (c >= 'a' && c <= 'f'));
  if (hex) return absl::OkStatus();
  return Invalid(where,
                 "every \"token_sha256\" entry must be 64 lower-case hex digits: the SHA-256 of "
                 "the token (tccd --hash_token < token-file), never the token itself");
}

const std::vector<std::string>& KnownKeys() {
  static const auto* keys =
      new std::vector<std::string>{"name", "roles", "identities", "token_sha256"};
  return *keys;
}

absl::Status CheckKeys(const Json& caller, absl::string_view where) {
  for (const auto& [key, value] : caller.items()) {
    if (std::find(KnownKeys().begin(), KnownKeys().end(), key) == KnownKeys().end()) {
      return Invalid(where, absl::StrCat("unknown key \"", key,
                                         "\"; a caller has name, roles, identities and "
                                         "token_sha256"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::string_view RoleName(Role role) {
  switch (role) {
    case Role::kInitiator:
      return "initiator";
    case Role::kViewer:
      return "viewer";
    case Role::kOperator:
      return "operator";
  }
  return "?";
}

bool Caller::Has(Role role) const {
  uint8_t effective = roles;
  if (roles & static_cast<uint8_t>(Role::kOperator)) effective |= uint8_t(Role::kViewer);
  return (effective & static_cast<uint8_t>(role)) != 0;
}

std::string Caller::RoleList() const {
  std::vector<absl::string_view> names;
  for (Role role : kRoles) {
    if (roles & static_cast<uint8_t>(role)) names.push_back(RoleName(role));
  }
  return absl::StrJoin(names, ", ");
}

absl::StatusOr<AuthPolicy> AuthPolicy::Parse(absl::string_view text, absl::string_view source) {
  Json json = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return Invalid(source, "not valid JSON");
  if (!json.is_object() || !json.contains("callers") || !json["callers"].is_array()) {
    return Invalid(source, "expected {\"callers\": [...]}");
  }
  if (json["callers"].empty()) {
    return Invalid(source,
                   "no callers: every call would be refused; list at least one, or drop "
                   "--auth_file to turn authorization off");
  }
  AuthPolicy policy;
  size_t index = 0;
  for (const Json& entry : json["callers"]) {
    std::string where = absl::StrCat(source, " callers[", index++, "]");
    if (!entry.is_object()) return Invalid(where, "must be an object");
    TCC_RETURN_IF_ERROR(CheckKeys(entry, where));
    Caller caller;
    if (!entry.contains("name") || !entry["name"].is_string()) {
      return Invalid(where, "\"name\" (a string) is missing");
    }
    caller.name = entry["name"].get<std::string>();
    TCC_RETURN_IF_ERROR(CheckName(caller.name, where));
    TCC_ASSIGN_OR_RETURN(std::vector<std::string> roles, Strings(entry, "roles", where));
    TCC_ASSIGN_OR_RETURN(caller.roles, ParseRoles(roles, where));
    TCC_ASSIGN_OR_RETURN(std::vector<std::string> identities, Strings(entry, "identities", where));
    TCC_ASSIGN_OR_RETURN(std::vector<std::string> hashes, Strings(entry, "token_sha256", where));
    TCC_RETURN_IF_ERROR(policy.Add(std::move(caller), identities, hashes, where));
  }
  return policy;
}

absl::Status AuthPolicy::Add(Caller caller, const std::vector<std::string>& identities,
                             const std::vector<std::string>& token_hashes,
                             absl::string_view where) {
  if (identities.empty() && token_hashes.empty()) {
    return Invalid(where, "give \"identities\" or \"token_sha256\": else nobody can be it");
  }
  for (const Caller& other : callers_) {
    if (other.name == caller.name) {
      return Invalid(where, absl::StrCat("the name \"", caller.name, "\" is used twice"));
    }
  }
  const size_t index = callers_.size();
  for (const std::string& identity : identities) {
    TCC_RETURN_IF_ERROR(CheckIdentity(identity, where));
    if (!by_identity_.emplace(identity, index).second) {
      return Invalid(where, absl::StrCat("identity \"", identity, "\" is listed twice"));
    }
  }
  for (const std::string& hash : token_hashes) {
    TCC_RETURN_IF_ERROR(CheckTokenHash(hash, where));
    if (!by_token_hash_.emplace(hash, index).second) {
      return Invalid(where, "a token_sha256 is listed twice; give each caller its own token");
    }
  }
  callers_.push_back(std::move(caller));
  return absl::OkStatus();
}

absl::StatusOr<AuthPolicy> AuthPolicy::Load(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::InvalidArgumentError(absl::StrCat("--auth_file: cannot read \"", path, "\""));
  }
  std::stringstream text;
  text << in.rdbuf();
  return Parse(text.str(), absl::StrCat("--auth_file ", path));
}

absl::StatusOr<const Caller*> AuthPolicy::Authenticate(const Credentials& credentials) const {
  if (credentials.has_token) {
    if (credentials.token.empty()) {
      return absl::UnauthenticatedError("the authorization metadata must be \"Bearer <token>\"");
    }
    auto found = by_token_hash_.find(HashToken(credentials.token));
    if (found != by_token_hash_.end()) return &callers_[found->second];
    return absl::UnauthenticatedError(
        "the bearer token is not in tccd's --auth_file (its SHA-256, from tccd --hash_token, must "
        "be one of a caller's token_sha256 entries); check the token you pass (--token, "
        "$TCC_TOKEN)");
  }
  for (const std::string& identity : credentials.identities) {
    auto found = by_identity_.find(identity);
    if (found != by_identity_.end()) return &callers_[found->second];
  }
  if (credentials.identities.empty()) {
    return absl::UnauthenticatedError(
        "no credential: present a client certificate whose identity tccd's --auth_file lists, "
        "or a bearer token (tccctl --token or $TCC_TOKEN; the SDK's token option)");
  }
  return absl::UnauthenticatedError(absl::StrCat(
      "the client certificate (", absl::StrJoin(credentials.identities, ", "),
      ") matches no caller in tccd's --auth_file: add one of these identities to a caller, or "
      "present a bearer token"));
}

std::string HashToken(absl::string_view token) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(token.data(), token.size(), digest, &length, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0xf]);
  }
  return hex;
}

}  // namespace tcc
