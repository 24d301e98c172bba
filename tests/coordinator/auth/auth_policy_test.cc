// The auth file's parsing (every refusal says where and what) and the
// lookups: tokens by hash, certificates by identity, roles and their one
// implication (operator includes viewer).
#include "coordinator/auth/auth_policy.h"

#include <gtest/gtest.h>

#include "tests/test_util/status_matchers.h"

namespace tcc {
namespace {

using ::tcc::testing::StatusIs;
using Code = absl::StatusCode;

constexpr char kFile[] = R"({"callers": [
  {"name": "shop", "roles": ["initiator"],
   "identities": ["uri:spiffe://tcc.test/shop", "cn:shop"]},
  {"name": "grafana", "roles": ["viewer"], "identities": ["dns:grafana.internal"]},
  {"name": "alice", "roles": ["operator"],
   "token_sha256": ["9c220f200955d76c0a38d308225e0ef10c5f971acaf2f8d1d8f732affa5bd1dc"]}
]})";  // The hash is HashToken("alice-token").

AuthPolicy Parsed() {
  absl::StatusOr<AuthPolicy> policy = AuthPolicy::Parse(kFile, "auth.json");
  EXPECT_OK(policy);
  return policy.ok() ? *std::move(policy) : AuthPolicy();
}

std::string NameOf(const AuthPolicy& policy, const Credentials& credentials) {
  absl::StatusOr<const Caller*> caller = policy.Authenticate(credentials);
  return caller.ok() ? (*caller)->name : std::string(caller.status().message());
}

TEST(HashTokenTest, IsTheHexSha256) {
  EXPECT_EQ(HashToken("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(HashToken("alice-token"),
            "9c220f200955d76c0a38d308225e0ef10c5f971acaf2f8d1d8f732affa5bd1dc");
}

TEST(AuthPolicyTest, FindsCallersByTokenAndByAnyCertificateIdentity) {
  AuthPolicy policy = Parsed();
  EXPECT_EQ(policy.size(), 3u);
  EXPECT_EQ(NameOf(policy, {.token = "alice-token", .has_token = true}), "alice");
  EXPECT_EQ(NameOf(policy, {.identities = {"uri:spiffe://tcc.test/shop"}}), "shop");
  EXPECT_EQ(NameOf(policy, {.identities = {"dns:localhost", "cn:shop"}}), "shop");
  EXPECT_EQ(NameOf(policy, {.identities = {"dns:localhost", "dns:grafana.internal"}}), "grafana");
}

TEST(AuthPolicyTest, ATokenDecidesEvenBesideAKnownCertificate) {
  AuthPolicy policy = Parsed();
  EXPECT_EQ(NameOf(policy, {.token = "alice-token", .has_token = true, .identities = {"cn:shop"}}),
            "alice");
  EXPECT_THAT(policy.Authenticate({.token = "guess", .has_token = true, .identities = {"cn:shop"}}),
              StatusIs(Code::kUnauthenticated, "the bearer token is not in tccd's --auth_file"));
}

TEST(AuthPolicyTest, RefusalsSayWhatWasMissingOrUnknown) {
  AuthPolicy policy = Parsed();
  EXPECT_THAT(policy.Authenticate({}), StatusIs(Code::kUnauthenticated, "no credential"));
  EXPECT_THAT(policy.Authenticate({.has_token = true}),
              StatusIs(Code::kUnauthenticated, "must be \"Bearer <token>\""));
  EXPECT_THAT(policy.Authenticate({.identities = {"dns:localhost", "cn:stranger"}}),
              StatusIs(Code::kUnauthenticated,
                       "the client certificate (dns:localhost, cn:stranger) matches no caller"));
}

TEST(AuthPolicyTest, OperatorImpliesViewerAndNothingElse) {
  Caller alice{"alice", static_cast<uint8_t>(Role::kOperator)};
  EXPECT_TRUE(alice.Has(Role::kOperator));
  EXPECT_TRUE(alice.Has(Role::kViewer));
  EXPECT_FALSE(alice.Has(Role::kInitiator));
  Caller grafana{"grafana", static_cast<uint8_t>(Role::kViewer)};
  EXPECT_FALSE(grafana.Has(Role::kOperator));
  Caller both{"ci", static_cast<uint8_t>(Role::kInitiator) | static_cast<uint8_t>(Role::kViewer)};
  EXPECT_EQ(both.RoleList(), "initiator, viewer");
}

void ExpectRefused(absl::string_view file, absl::string_view message) {
  EXPECT_THAT(AuthPolicy::Parse(file, "auth.json").status(),
              StatusIs(Code::kInvalidArgument, std::string(message)))
      << file;
}

TEST(AuthPolicyTest, BadFilesAreRefusedSayingWhereAndWhat) {
  ExpectRefused("{", "auth.json: not valid JSON");
  ExpectRefused(R"({"caller": []})", "expected {\"callers\": [...]}");
  ExpectRefused(R"({"callers": []})", "no callers: every call would be refused");
  ExpectRefused(R"({"callers": [{"roles": ["viewer"], "identities": ["cn:a"]}]})",
                "callers[0]: \"name\" (a string) is missing");
  ExpectRefused(R"({"callers": [{"name": "a", "roles": ["admin"], "identities": ["cn:a"]}]})",
                "callers[0]: unknown role \"admin\"; use initiator, viewer or operator");
  ExpectRefused(R"({"callers": [{"name": "a", "identities": ["cn:a"]}]})",
                "\"roles\" is missing or empty");
  ExpectRefused(R"({"callers": [{"name": "a", "roles": ["viewer"]}]})",
                "give \"identities\" or \"token_sha256\"");
  ExpectRefused(R"({"callers": [{"name": "a", "roles": ["viewer"], "identities": ["a.b"]}]})",
                "identity \"a.b\" must start with uri:, dns: or cn:");
  ExpectRefused(
      R"({"callers": [{"name": "a", "roles": ["viewer"], "token_sha256": ["alice-token"]}]})",
      "must be 64 lower-case hex digits");
  ExpectRefused(R"({"callers": [{"name": "a", "roles": ["viewer"], "identity": ["cn:a"]}]})",
                "unknown key \"identity\"");
  ExpectRefused(R"({"callers": [{"name": "a", "roles": ["viewer"], "identities": ["cn:a"]},
                                {"name": "b", "roles": ["viewer"], "identities": ["cn:a"]}]})",
                "callers[1]: identity \"cn:a\" is listed twice");
  ExpectRefused(R"({"callers": [{"name": "a", "roles": ["viewer"], "identities": ["cn:a"]},
                                {"name": "a", "roles": ["viewer"], "identities": ["cn:b"]}]})",
                "the name \"a\" is used twice");
  ExpectRefused(R"({"callers": [{"name": "a\nb", "roles": ["viewer"], "identities": ["cn:a"]}]})",
                "printable ASCII");
}

TEST(AuthPolicyTest, AMissingFileIsNamedWithItsFlag) {
  EXPECT_THAT(
      AuthPolicy::Load("/nonexistent/auth.json").status(),
      StatusIs(Code::kInvalidArgument, "--auth_file: cannot read \"/nonexistent/auth.json\""));
}

}  // namespace
}  // namespace tcc
