// common/tls for real: certificates made with openssl in a temp dir, a
// gRPC server on a loopback port 0 with the credentials MakeServerCredentials
// builds, clients with MakeChannelCredentials'. Plain, TLS and mutual TLS
// handshakes; wrong and missing certificates refused; a certificate
// rotated on disk while calls run, with none failing.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "tcc/common/tls.h"
#include "tcc/v1/initiator.grpc.pb.h"
#include "tests/test_util/call_load.h"
#include "tests/test_util/status_matchers.h"
#include "tests/test_util/temp_dir.h"
#include "tests/test_util/test_certs.h"
#include "tests/test_util/wait.h"

namespace tcc {
namespace {

using ::tcc::testing::CertFiles;
using ::tcc::testing::StatusIs;
using ::tcc::testing::TempDir;
using ::tcc::testing::TestCa;
using ::tcc::testing::TestPki;
using ::tcc::testing::WaitFor;
using ::testing::AllOf;
using ::testing::HasSubstr;

class CommittedEverything final : public v1::InitiatorStatus::CallbackService {
  grpc::ServerUnaryReactor* QueryStatus(grpc::CallbackServerContext* ctx,
                                        const v1::QueryStatusRequest*,
                                        v1::QueryStatusReply* reply) override {
    reply->set_decision(v1::INITIATOR_DECISION_COMMITTED);
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

// What one call saw: its status and the server certificate's CN.
struct CallResult {
  grpc::Status status;
  std::string server_cn;
};

CallResult CallOn(const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = v1::InitiatorStatus::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  v1::QueryStatusRequest request;
  v1::QueryStatusReply reply;
  CallResult result{stub->QueryStatus(&context, request, &reply), ""};
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth != nullptr) {
    for (const grpc::string_ref& cn : auth->FindPropertyValues("x509_common_name")) {
      result.server_cn.assign(cn.data(), cn.size());
    }
  }
  return result;
}

std::shared_ptr<grpc::Channel> Connect(int port, const TlsOptions& tls) {
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      MakeChannelCredentials(tls);
  EXPECT_OK(credentials);
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // A fresh connection per channel.
  return grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port), *credentials, args);
}

class TlsCredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<TestPki> pki = TestPki::Create(dir_.path().string());
    ASSERT_OK(pki);
    pki_.emplace(*std::move(pki));
    ca_ = &pki_->ca();
    other_ca_ = &pki_->other_ca();
    absl::StatusOr<CertFiles> server = ca_->Issue("server");
    absl::StatusOr<CertFiles> client = ca_->Issue("client");
    absl::StatusOr<CertFiles> intruder = other_ca_->Issue("intruder");
    ASSERT_OK(server);
    ASSERT_OK(client);
    ASSERT_OK(intruder);
    server_ = *server;
    client_ = *client;
    intruder_ = *intruder;
  }
  void TearDown() override {
    if (server_process_) server_process_->Shutdown();
  }

  // Serves with `tls`; the port.
  int Serve(const TlsOptions& tls) {
    absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
        MakeServerCredentials(tls);
    EXPECT_OK(credentials);
    if (!credentials.ok()) return 0;
    int port = 0;
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", *credentials, &port);
    builder.RegisterService(&service_);
    server_process_ = builder.BuildAndStart();
    EXPECT_GT(port, 0);
    return port;
  }
  TlsOptions ServerTls(bool mutual) const {
    return {.cert_file = server_.cert_file,
            .key_file = server_.key_file,
            .ca_file = mutual ? ca_->cert_file() : "",
            .require_client_cert = mutual};
  }
  TlsOptions ClientTls(const CertFiles* identity) const {
    TlsOptions tls{.ca_file = ca_->cert_file()};
    if (identity != nullptr) {
      tls.cert_file = identity->cert_file;
      tls.key_file = identity->key_file;
    }
    return tls;
  }

  TempDir dir_;
  std::optional<TestPki> pki_;
  const TestCa* ca_ = nullptr;
  const TestCa* other_ca_ = nullptr;
  CertFiles server_, client_, intruder_;
  CommittedEverything service_;
  std::unique_ptr<grpc::Server> server_process_;
};

TEST_F(TlsCredentialsTest, NoFilesMeansPlaintextBothWays) {
  int port = Serve({});
  CallResult result = CallOn(Connect(port, {}));
  EXPECT_TRUE(result.status.ok()) << result.status.error_message();
  EXPECT_EQ(result.server_cn, "");
}

TEST_F(TlsCredentialsTest, MissingFileIsNamedWithItsFlag) {
  TlsOptions tls = ServerTls(false);
  tls.cert_file = dir_.File("nope.pem");
  tls.names.cert = "--tls_cert";
  EXPECT_THAT(MakeServerCredentials(tls).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       absl::StrCat("--tls_cert: cannot read \"", dir_.File("nope.pem"), "\"")));
}

TEST_F(TlsCredentialsTest, KeyGivenAsCertificateIsRefused) {
  TlsOptions tls = ServerTls(false);
  tls.cert_file = server_.key_file;
  EXPECT_THAT(ValidateTlsFiles(tls),
              StatusIs(absl::StatusCode::kInvalidArgument, "holds no PEM certificate"));
  tls = ServerTls(false);
  tls.key_file = server_.cert_file;
  EXPECT_THAT(ValidateTlsFiles(tls),
              StatusIs(absl::StatusCode::kInvalidArgument, "holds no PEM private key"));
}

TEST_F(TlsCredentialsTest, IncompleteCombinationsAreRefused) {
  TlsOptions tls = ServerTls(false);
  tls.key_file.clear();
  tls.names = {.cert = "--tls_cert", .key = "--tls_key", .ca = "--tls_client_ca"};
  EXPECT_THAT(ValidateTlsFiles(tls), StatusIs(absl::StatusCode::kInvalidArgument,
                                              "give --tls_cert and --tls_key together"));
  tls = ServerTls(false);
  tls.require_client_cert = true;
  tls.names.ca = "--tls_client_ca";
  EXPECT_THAT(ValidateTlsFiles(tls),
              StatusIs(absl::StatusCode::kInvalidArgument, "mutual TLS needs --tls_client_ca"));
  EXPECT_THAT(MakeServerCredentials({.ca_file = ca_->cert_file()}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "serving TLS needs"));
}

TEST_F(TlsCredentialsTest, TlsServerRefusesPlaintextAndWrongCa) {
  int port = Serve(ServerTls(false));
  EXPECT_EQ(CallOn(Connect(port, {})).status.error_code(), grpc::StatusCode::UNAVAILABLE);
  TlsOptions wrong{.ca_file = other_ca_->cert_file()};
  EXPECT_EQ(CallOn(Connect(port, wrong)).status.error_code(), grpc::StatusCode::UNAVAILABLE);
  CallResult right = CallOn(Connect(port, ClientTls(nullptr)));
  EXPECT_TRUE(right.status.ok()) << right.status.error_message();
  EXPECT_EQ(right.server_cn, "server");
}

TEST_F(TlsCredentialsTest, MutualTlsNeedsAClientCertificateFromTheCa) {
  int port = Serve(ServerTls(true));
  EXPECT_EQ(CallOn(Connect(port, ClientTls(nullptr))).status.error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(CallOn(Connect(port, ClientTls(&intruder_))).status.error_code(),
            grpc::StatusCode::UNAVAILABLE);
  CallResult right = CallOn(Connect(port, ClientTls(&client_)));
  EXPECT_TRUE(right.status.ok()) << right.status.error_message();
}

TEST_F(TlsCredentialsTest, ExpiredCertificatesAreRefusedBothWays) {
  absl::StatusOr<CertFiles> expired_server = ca_->IssueExpired("expired-server");
  absl::StatusOr<CertFiles> expired_client = ca_->IssueExpired("expired-client");
  ASSERT_OK(expired_server);
  ASSERT_OK(expired_client);
  TlsOptions server_tls = ServerTls(true);
  server_tls.cert_file = expired_server->cert_file;
  server_tls.key_file = expired_server->key_file;
  int expired_port = Serve(server_tls);
  EXPECT_EQ(CallOn(Connect(expired_port, ClientTls(&client_))).status.error_code(),
            grpc::StatusCode::UNAVAILABLE);
  server_process_->Shutdown();

  int port = Serve(ServerTls(true));
  EXPECT_EQ(CallOn(Connect(port, ClientTls(&*expired_client))).status.error_code(),
            grpc::StatusCode::UNAVAILABLE);
  CallResult right = CallOn(Connect(port, ClientTls(&client_)));
  EXPECT_TRUE(right.status.ok()) << right.status.error_message();
}

// Calls until stopped, alternately on one long-lived channel and on a new
// channel each time.
std::function<absl::Status(int)> Calls(int port, TlsOptions tls) {
  std::shared_ptr<grpc::Channel> kept = Connect(port, tls);
  return [=](int i) {
    grpc::Status status = CallOn(i % 2 == 0 ? kept : Connect(port, tls)).status;
    return status.ok() ? absl::OkStatus() : absl::UnavailableError(status.error_message());
  };
}

TEST_F(TlsCredentialsTest, RotatedServerCertificateIsServedWithoutFailedCalls) {
  absl::StatusOr<CertFiles> rotated = other_ca_->Issue("server-rotated");
  ASSERT_OK(rotated);
  // Two generations of the server's files; "live" points at one of them.
  testing::WriteGenerations(dir_.path(), "server", {{"gen1", server_}, {"gen2", *rotated}});
  testing::PointSymlinkAt(dir_.path() / "live", dir_.path() / "gen1");
  // Clients trust both CAs before the server changes.
  ASSERT_OK(
      testing::WriteBundle(dir_.File("both.pem"), {ca_->cert_file(), other_ca_->cert_file()}));
  TlsOptions server_tls = ServerTls(true);
  server_tls.cert_file = dir_.File("live/server.pem");
  server_tls.key_file = dir_.File("live/server.key");
  server_tls.refresh_interval = absl::Seconds(1);
  int port = Serve(server_tls);
  TlsOptions client_tls = ClientTls(&client_);
  client_tls.ca_file = dir_.File("both.pem");
  ASSERT_EQ(CallOn(Connect(port, client_tls)).server_cn, "server");

  testing::CallLoad load(Calls(port, client_tls));
  ASSERT_TRUE(WaitFor([&] { return load.calls() > 20; }));
  testing::PointSymlinkAt(dir_.path() / "live", dir_.path() / "gen2");
  EXPECT_TRUE(
      WaitFor([&] { return CallOn(Connect(port, client_tls)).server_cn == "server-rotated"; },
              std::chrono::seconds(15)));
  int calls_at_switch = load.calls();
  ASSERT_TRUE(WaitFor([&] { return load.calls() > calls_at_switch + 20; }));
  load.Stop();
  EXPECT_EQ(load.failures(), 0) << "of " << load.calls() << "; last: " << load.last_error();
}

}  // namespace
}  // namespace tcc
