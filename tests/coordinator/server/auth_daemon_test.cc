// Authorization on tccd's port, in process on loopback port 0 with a real
// SQLite file: bearer tokens and mutual-TLS identities mapped to roles by
// an auth file. Every refusal (missing, wrong or unknown credential; a
// caller without the role) comes with a message saying what to do and
// leaves nothing stored; every method of both services is guarded; the
// timeline names the authenticated operator; the file is re-read on
// demand. Without a file, operator names are marked self-declared.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <fstream>
#include <future>

#include "coordinator/auth/auth_policy.h"
#include "tcc/common/tls.h"
#include "tcc/v1/admin.grpc.pb.h"
#include "tests/coordinator/server/test_daemon.h"
#include "tests/test_util/status_matchers.h"
#include "tests/test_util/temp_dir.h"
#include "tests/test_util/test_certs.h"

namespace tcc {
namespace {

using ::tcc::testing::CertFiles;
using ::tcc::testing::CoordinatorClient;
using ::tcc::testing::StatusIs;
using ::tcc::testing::TempDir;
using ::tcc::testing::TestPki;
using ::testing::HasSubstr;
using Code = absl::StatusCode;

constexpr char kShopToken[] = "shop-token-5f1c0d";
constexpr char kAliceToken[] = "alice-token-9a7e44";
constexpr char kGrafanaToken[] = "grafana-token-31bb02";

std::string CallerJson(const std::string& name, const std::string& role, const std::string& token) {
  return absl::StrCat(R"({"name": ")", name, R"(", "roles": [")", role, R"("], "token_sha256": [")",
                      HashToken(token), R"("]})");
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::trunc) << text;
}

// Admin calls with an optional bearer token.
class AdminClient {
 public:
  AdminClient(std::shared_ptr<grpc::Channel> channel, std::string token)
      : stub_(v1::Admin::NewStub(std::move(channel))), token_(std::move(token)) {}

  absl::StatusOr<v1::ListTransactionsReply> List() {
    return Call(&v1::Admin::Stub::ListTransactions, v1::ListTransactionsRequest());
  }
  absl::StatusOr<v1::TransactionDetail> Describe(const std::string& gid) {
    v1::DescribeTransactionRequest request;
    request.set_gid(gid);
    return Call(&v1::Admin::Stub::DescribeTransaction, request);
  }
  absl::StatusOr<v1::ResolveReply> Resolve(const std::string& gid, const std::string& declared) {
    v1::ResolveRequest request;
    request.set_gid(gid);
    request.set_action(v1::RESOLVE_ACTION_MARK_ROLLED_BACK);
    request.set_reason("refunded by hand");
    request.set_operator_(declared);
    return Call(&v1::Admin::Stub::Resolve, request);
  }

 private:
  template <typename Request, typename Reply>
  absl::StatusOr<Reply> Call(grpc::Status (v1::Admin::Stub::*method)(grpc::ClientContext*,
                                                                     const Request&, Reply*),
                             const Request& request) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    if (!token_.empty()) context.AddMetadata("authorization", "Bearer " + token_);
    Reply reply;
    grpc::Status status = (stub_.get()->*method)(&context, request, &reply);
    if (!status.ok()) return FromGrpcStatus(status);
    return reply;
  }

  std::unique_ptr<v1::Admin::Stub> stub_;
  std::string token_;
};

class AuthDaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteFile(auth_file_,
              absl::StrCat(R"({"callers": [)", CallerJson("shop", "initiator", kShopToken), ",",
                           CallerJson("alice", "operator", kAliceToken), ",",
                           CallerJson("grafana", "viewer", kGrafanaToken), "]}"));
    auto [daemon, client] = ::tcc::testing::StartTestDaemon(
        dir_, [&](DaemonConfig& config) { config.auth_file = auth_file_; });
    ASSERT_NE(daemon, nullptr);
    daemon_ = std::move(daemon);
    client_ = std::move(client);
  }

  std::unique_ptr<CoordinatorClient> Initiator(const std::string& token) {
    auto client = std::make_unique<CoordinatorClient>(absl::StrCat("127.0.0.1:", daemon_->port()));
    client->set_token(token);
    return client;
  }
  AdminClient Admin(const std::string& token) { return AdminClient(client_->channel(), token); }
  // What the store holds, seen by the operator.
  size_t Stored() {
    absl::StatusOr<v1::ListTransactionsReply> list = Admin(kAliceToken).List();
    EXPECT_OK(list);
    return list.ok() ? list->transactions_size() : 0;
  }

  TempDir dir_;
  const std::string auth_file_ = dir_.File("auth.json");
  std::unique_ptr<Daemon> daemon_;
  std::unique_ptr<CoordinatorClient> client_;
};

TEST_F(AuthDaemonTest, AMissingTokenIsUnauthenticatedAndStoresNothing) {
  EXPECT_THAT(client_->Begin("no-token"),
              StatusIs(Code::kUnauthenticated,
                       "Coordinator.Begin needs the initiator role; no credential: present a "
                       "client certificate"));
  EXPECT_THAT(client_->Begin("no-token"), StatusIs(Code::kUnauthenticated, "bearer token"));
  EXPECT_THAT(Admin("").List(), StatusIs(Code::kUnauthenticated, "Admin.ListTransactions"));
  EXPECT_EQ(Stored(), 0u);
  EXPECT_THAT(Admin(kAliceToken).Describe("no-token"), StatusIs(Code::kNotFound));
}

TEST_F(AuthDaemonTest, AWrongTokenIsUnauthenticatedAndStoresNothing) {
  EXPECT_THAT(Initiator("shop-token-guess")->Begin("wrong-token"),
              StatusIs(Code::kUnauthenticated, "the bearer token is not in tccd's --auth_file"));
  EXPECT_THAT(Initiator("shop-token-guess")->Try(testing::MakeTry("wrong-token", {{"b", "x:1"}})),
              StatusIs(Code::kUnauthenticated));
  EXPECT_EQ(Stored(), 0u);
}

TEST_F(AuthDaemonTest, AWrongRoleIsPermissionDeniedAndChangesNothing) {
  ASSERT_OK(Initiator(kShopToken)->Begin("open-1"));
  EXPECT_THAT(Initiator(kGrafanaToken)->Begin("by-viewer"),
              StatusIs(Code::kPermissionDenied,
                       "Coordinator.Begin needs the initiator role; caller \"grafana\" has "
                       "viewer. Grant it in tccd's --auth_file"));
  EXPECT_THAT(Initiator(kAliceToken)->Commit("open-1"),
              StatusIs(Code::kPermissionDenied, "caller \"alice\" has operator"));
  EXPECT_THAT(Admin(kGrafanaToken).Resolve("open-1", "grafana"),
              StatusIs(Code::kPermissionDenied, "Admin.Resolve needs the operator role"));
  EXPECT_THAT(Admin(kShopToken).List(),
              StatusIs(Code::kPermissionDenied, "Admin.ListTransactions needs the viewer role"));

  EXPECT_EQ(Stored(), 1u);
  absl::StatusOr<v1::TransactionDetail> detail = Admin(kGrafanaToken).Describe("open-1");
  ASSERT_OK(detail);
  EXPECT_EQ(detail->transaction().state(), v1::TRANSACTION_STATE_TRYING);
  for (const v1::TimelineEvent& event : detail->timeline()) EXPECT_NE(event.kind(), "operator");
}

TEST_F(AuthDaemonTest, TheTimelineNamesTheAuthenticatedOperatorNotTheDeclaredOne) {
  ASSERT_OK(Initiator(kShopToken)->Begin("stuck-1"));
  absl::StatusOr<v1::ResolveReply> resolved = Admin(kAliceToken).Resolve("stuck-1", "mallory");
  ASSERT_OK(resolved);
  EXPECT_EQ(resolved->state(), v1::TRANSACTION_STATE_ROLLED_BACK);
  absl::StatusOr<v1::TransactionDetail> detail = Admin(kAliceToken).Describe("stuck-1");
  ASSERT_OK(detail);
  int operator_events = 0;
  for (const v1::TimelineEvent& event : detail->timeline()) {
    if (event.kind() != "operator") continue;
    ++operator_events;
    EXPECT_EQ(event.actor(), "alice");
    EXPECT_THAT(event.detail(), HasSubstr("refunded by hand"));
  }
  EXPECT_EQ(operator_events, 1) << detail->DebugString();
  EXPECT_EQ(detail->DebugString().find("mallory"), std::string::npos) << detail->DebugString();
}

// Calls `method` ("/tcc.v1.Admin/Resolve") with an empty request and no
// credential.
grpc::Status CallWithoutCredential(const std::shared_ptr<grpc::Channel>& channel,
                                   const std::string& method) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::Slice empty(std::string{});  // An empty message, serialized.
  grpc::ByteBuffer request(&empty, 1), reply;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, method, grpc::StubOptions(), &request, &reply,
                 [&](grpc::Status status) { done.set_value(std::move(status)); });
  return done.get_future().get();
}

TEST_F(AuthDaemonTest, EveryMethodOfBothServicesNeedsACredential) {
  int methods = 0;
  for (const std::string& name :
       {v1::Coordinator::service_full_name(), v1::Admin::service_full_name()}) {
    const google::protobuf::ServiceDescriptor* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(name);
    ASSERT_NE(service, nullptr);
    for (int i = 0; i < service->method_count(); ++i, ++methods) {
      std::string method = absl::StrCat("/", name, "/", service->method(i)->name());
      grpc::Status status = CallWithoutCredential(client_->channel(), method);
      EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
          << method << ": " << status.error_message();
    }
  }
  EXPECT_GE(methods, 11);
  EXPECT_EQ(Stored(), 0u);
}

TEST_F(AuthDaemonTest, AReloadedFileTakesEffectAndABrokenOneIsIgnored) {
  constexpr char kCarolToken[] = "carol-token-77d1e0";
  EXPECT_THAT(Admin(kCarolToken).List(), StatusIs(Code::kUnauthenticated));
  WriteFile(auth_file_, absl::StrCat(R"({"callers": [)", CallerJson("carol", "viewer", kCarolToken),
                                     ",", CallerJson("alice", "operator", kAliceToken), "]}"));
  ASSERT_OK(daemon_->ReloadAuth());
  EXPECT_OK(Admin(kCarolToken).List());
  EXPECT_THAT(Initiator(kShopToken)->Begin("after-reload"), StatusIs(Code::kUnauthenticated));

  WriteFile(auth_file_, R"({"callers": [{"name": "carol"}]})");
  EXPECT_THAT(daemon_->ReloadAuth(), StatusIs(Code::kInvalidArgument, "\"roles\""));
  EXPECT_OK(Admin(kCarolToken).List());
}

TEST(AuthDaemonStartTest, AnUnusableAuthFileStopsTheStartBeforeTheStoreOpens) {
  TempDir dir;
  WriteFile(dir.File("auth.json"), R"({"callers": [{"name": "x", "roles": ["root"]}]})");
  DaemonConfig config;
  config.listen = "127.0.0.1:0";
  config.http_listen = "";
  config.data_path = dir.File("tccd.db");
  config.auth_file = dir.File("auth.json");
  EXPECT_THAT(Daemon::Start(std::move(config)).status(),
              StatusIs(Code::kInvalidArgument, "unknown role \"root\""));
  EXPECT_FALSE(std::filesystem::exists(dir.File("tccd.db")));
}

TEST(AuthOffTest, OperatorNamesAreMarkedSelfDeclared) {
  TempDir dir;
  auto [daemon, client] = ::tcc::testing::StartTestDaemon(dir);
  ASSERT_NE(daemon, nullptr);
  ASSERT_OK(client->Begin("declared-1"));
  ASSERT_OK(client->Begin("declared-2"));
  AdminClient admin(client->channel(), "");
  ASSERT_OK(admin.Resolve("declared-1", "bob"));
  ASSERT_OK(admin.Resolve("declared-2", ""));
  for (auto [gid, actor] : {std::pair{"declared-1", "bob (self-declared)"},
                            {"declared-2", "unknown (self-declared)"}}) {
    absl::StatusOr<v1::TransactionDetail> detail = admin.Describe(gid);
    ASSERT_OK(detail);
    std::vector<std::string> actors;
    for (const v1::TimelineEvent& event : detail->timeline()) {
      if (event.kind() == "operator") actors.push_back(event.actor());
    }
    EXPECT_THAT(actors, ::testing::ElementsAre(actor));
  }
  EXPECT_THAT(admin.Resolve("declared-1", std::string(129, 'b')),
              StatusIs(Code::kInvalidArgument, "operator"));
}

// Mutual TLS: certificate identities (a SPIFFE URI SAN, a CN) map to
// callers; a certificate from the trusted CA that the file does not list
// is refused by name.
class CertificateIdentityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<TestPki> pki = TestPki::Create(dir_.path().string());
    ASSERT_OK(pki);
    pki_.emplace(*std::move(pki));
    for (auto [name, files, sans] :
         {std::tuple{"tccd", &server_, std::vector<std::string>{}},
          {"shop-7f3a", &shop_, std::vector<std::string>{"URI:spiffe://tcc.test/shop"}},
          {"grafana", &grafana_, std::vector<std::string>{}},
          {"stranger", &stranger_, std::vector<std::string>{}}}) {
      absl::StatusOr<CertFiles> issued = pki_->Issue(name, sans);
      ASSERT_OK(issued);
      *files = *issued;
    }
    WriteFile(dir_.File("auth.json"), R"({"callers": [
      {"name": "shop", "roles": ["initiator"], "identities": ["uri:spiffe://tcc.test/shop"]},
      {"name": "grafana", "roles": ["viewer"], "identities": ["cn:grafana"]}]})");
    auto [daemon, client] = ::tcc::testing::StartTestDaemon(dir_, [&](DaemonConfig& config) {
      config.auth_file = dir_.File("auth.json");
      config.tls = {.cert_file = server_.cert_file,
                    .key_file = server_.key_file,
                    .ca_file = pki_->ca().cert_file(),
                    .require_client_cert = true};
    });
    ASSERT_NE(daemon, nullptr);
    daemon_ = std::move(daemon);
  }
  std::shared_ptr<grpc::Channel> Channel(const CertFiles& identity) {
    absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
        MakeChannelCredentials({.cert_file = identity.cert_file,
                                .key_file = identity.key_file,
                                .ca_file = pki_->ca().cert_file()});
    EXPECT_OK(credentials);
    return grpc::CreateChannel(absl::StrCat("127.0.0.1:", daemon_->port()), *credentials);
  }

  TempDir dir_;
  std::optional<TestPki> pki_;
  CertFiles server_, shop_, grafana_, stranger_;
  std::unique_ptr<Daemon> daemon_;
};

TEST_F(CertificateIdentityTest, CallersAreKnownByTheirCertificates) {
  CoordinatorClient shop(absl::StrCat("127.0.0.1:", daemon_->port()),
                         *MakeChannelCredentials({.cert_file = shop_.cert_file,
                                                  .key_file = shop_.key_file,
                                                  .ca_file = pki_->ca().cert_file()}));
  ASSERT_OK(shop.Begin("by-spiffe-id"));
  AdminClient grafana(Channel(grafana_), "");
  absl::StatusOr<v1::ListTransactionsReply> list = grafana.List();
  ASSERT_OK(list);
  ASSERT_EQ(list->transactions_size(), 1);
  EXPECT_EQ(list->transactions(0).gid(), "by-spiffe-id");
  EXPECT_THAT(grafana.Resolve("by-spiffe-id", ""),
              StatusIs(Code::kPermissionDenied, "caller \"grafana\" has viewer"));

  EXPECT_THAT(AdminClient(Channel(stranger_), "").List(),
              StatusIs(Code::kUnauthenticated, "dns:localhost, cn:stranger) matches no caller"));
  CoordinatorClient stranger(absl::StrCat("127.0.0.1:", daemon_->port()),
                             *MakeChannelCredentials({.cert_file = stranger_.cert_file,
                                                      .key_file = stranger_.key_file,
                                                      .ca_file = pki_->ca().cert_file()}));
  EXPECT_THAT(stranger.Begin("by-stranger"), StatusIs(Code::kUnauthenticated));
  EXPECT_THAT(grafana.Describe("by-stranger"), StatusIs(Code::kNotFound));
}

}  // namespace
}  // namespace tcc
