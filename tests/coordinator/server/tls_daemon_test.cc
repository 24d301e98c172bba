// tccd's gRPC port with TLS, in process on loopback port 0, certificates made
// with openssl in the test's temp dir: plaintext clients refused, the right
// CA accepted, mutual TLS refusing a missing or foreign client certificate
// (with nothing stored), a certificate rotated under load with no failed
// call, and the rule that plaintext stays on loopback.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "tcc/common/tls.h"
#include "tests/coordinator/server/test_daemon.h"
#include "tests/test_util/call_load.h"
#include "tests/test_util/status_matchers.h"
#include "tests/test_util/temp_dir.h"
#include "tests/test_util/test_certs.h"
#include "tests/test_util/wait.h"

namespace tcc {
namespace {

using ::tcc::testing::CertFiles;
using ::tcc::testing::CoordinatorClient;
using ::tcc::testing::StatusIs;
using ::tcc::testing::TempDir;
using ::tcc::testing::TestCa;
using ::tcc::testing::TestPki;
using ::tcc::testing::WaitFor;
using ::testing::HasSubstr;

std::shared_ptr<grpc::ChannelCredentials> Credentials(const TlsOptions& tls) {
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      MakeChannelCredentials(tls);
  EXPECT_OK(credentials);
  return credentials.ok() ? *credentials : grpc::InsecureChannelCredentials();
}

// A client on a channel (and connection) of its own.
std::unique_ptr<CoordinatorClient> Client(int port, const TlsOptions& tls) {
  return std::make_unique<CoordinatorClient>(absl::StrCat("127.0.0.1:", port), Credentials(tls));
}

// The CN of the certificate the server presents to a new connection.
std::string ServerCn(int port, const TlsOptions& tls) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  auto channel =
      grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port), Credentials(tls), args);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  v1::GetTransactionRequest request;
  request.set_gid("no-such-gid");
  v1::Transaction reply;
  v1::Coordinator::NewStub(channel)->GetTransaction(&context, request, &reply);
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth == nullptr) return "";
  std::vector<grpc::string_ref> cn = auth->FindPropertyValues("x509_common_name");
  return cn.empty() ? "" : std::string(cn.front().data(), cn.front().size());
}

class TlsDaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<TestPki> pki = TestPki::Create(dir_.path().string());
    ASSERT_OK(pki);
    pki_.emplace(*std::move(pki));
    ca_ = &pki_->ca();
    other_ca_ = &pki_->other_ca();
    for (auto [name, files, issuer] : {std::tuple{"tccd", &server_, ca_},
                                       {"client", &client_, ca_},
                                       {"intruder", &intruder_, other_ca_}}) {
      absl::StatusOr<CertFiles> issued = issuer->Issue(name);
      ASSERT_OK(issued);
      *files = *issued;
    }
  }

  // Starts tccd with `configure` applied; its port, or 0 when it failed.
  int Start(const std::function<void(DaemonConfig&)>& configure) {
    DaemonConfig config;
    config.listen = "127.0.0.1:0";
    config.http_listen = "";
    config.data_path = dir_.File("tccd.db");
    configure(config);
    absl::StatusOr<std::unique_ptr<Daemon>> daemon = Daemon::Start(std::move(config));
    EXPECT_OK(daemon);
    if (!daemon.ok()) return 0;
    daemon_ = *std::move(daemon);
    return daemon_->port();
  }
  void ServeTls(DaemonConfig& config, bool mutual) const {
    config.tls.cert_file = server_.cert_file;
    config.tls.key_file = server_.key_file;
    if (mutual) {
      config.tls.ca_file = ca_->cert_file();
      config.tls.require_client_cert = true;
    }
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
  std::unique_ptr<Daemon> daemon_;
};

TEST_F(TlsDaemonTest, PlaintextOnANonLoopbackAddressIsRefusedBeforeAnythingOpens) {
  DaemonConfig config;
  config.listen = "0.0.0.0:0";
  config.data_path = dir_.File("tccd.db");
  absl::StatusOr<std::unique_ptr<Daemon>> daemon = Daemon::Start(std::move(config));
  EXPECT_THAT(daemon.status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "refusing to serve the coordinator API without TLS on non-loopback "
                       "address 0.0.0.0:0"));
  EXPECT_THAT(std::string(daemon.status().message()), HasSubstr("--tls_cert and --tls_key"));
  EXPECT_THAT(std::string(daemon.status().message()), HasSubstr("--insecure"));
  EXPECT_FALSE(std::filesystem::exists(dir_.File("tccd.db")));
}

TEST_F(TlsDaemonTest, InsecureServesPlaintextOnANonLoopbackAddress) {
  int port = Start([](DaemonConfig& config) {
    config.listen = "0.0.0.0:0";
    config.insecure = true;
  });
  ASSERT_GT(port, 0);
  EXPECT_OK(Client(port, {})->Begin("insecure-but-allowed"));
}

TEST_F(TlsDaemonTest, TlsOnANonLoopbackAddressNeedsNoOtherFlag) {
  int port = Start([&](DaemonConfig& config) {
    config.listen = "0.0.0.0:0";
    ServeTls(config, false);
  });
  ASSERT_GT(port, 0);
  EXPECT_OK(Client(port, ClientTls(nullptr))->Begin("over-tls"));
}

TEST_F(TlsDaemonTest, AMissingCertificateFileIsNamedWithItsFlag) {
  DaemonConfig config;
  config.listen = "127.0.0.1:0";
  config.data_path = dir_.File("tccd.db");
  ServeTls(config, false);
  config.tls.cert_file = dir_.File("missing.pem");
  EXPECT_THAT(Daemon::Start(std::move(config)).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       absl::StrCat("--tls_cert: cannot read \"", dir_.File("missing.pem"))));
}

TEST_F(TlsDaemonTest, TlsRefusesPlaintextAndAcceptsTheRightCa) {
  int port = Start([&](DaemonConfig& config) { ServeTls(config, false); });
  ASSERT_GT(port, 0);
  EXPECT_THAT(Client(port, {})->Begin("plaintext"), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(Client(port, {.ca_file = other_ca_->cert_file()})->Begin("wrong-ca"),
              StatusIs(absl::StatusCode::kUnavailable));
  std::unique_ptr<CoordinatorClient> client = Client(port, ClientTls(nullptr));
  ASSERT_OK(client->Begin("right-ca"));
  EXPECT_THAT(client->Get("plaintext"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(client->Get("wrong-ca"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_OK(client->Get("right-ca"));
}

TEST_F(TlsDaemonTest, MutualTlsRefusesMissingAndForeignClientCertificates) {
  int port = Start([&](DaemonConfig& config) { ServeTls(config, true); });
  ASSERT_GT(port, 0);
  EXPECT_THAT(Client(port, ClientTls(nullptr))->Begin("no-client-cert"),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(Client(port, ClientTls(&intruder_))->Begin("foreign-cert"),
              StatusIs(absl::StatusCode::kUnavailable));
  std::unique_ptr<CoordinatorClient> client = Client(port, ClientTls(&client_));
  ASSERT_OK(client->Begin("right-cert"));
  EXPECT_THAT(client->Get("no-client-cert"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(client->Get("foreign-cert"), StatusIs(absl::StatusCode::kNotFound));
}

// Begins transactions until stopped, alternately on one long-lived client
// and on a new one each time.
std::function<absl::Status(int)> Begins(int port, TlsOptions tls) {
  std::shared_ptr<CoordinatorClient> kept = Client(port, tls);
  return [=](int i) {
    if (i % 2 == 0) return kept->Begin(absl::StrCat("kept-", i)).status();
    return Client(port, tls)->Begin(absl::StrCat("new-", i)).status();
  };
}

TEST_F(TlsDaemonTest, ARotatedCertificateIsServedWithoutAFailedCall) {
  absl::StatusOr<CertFiles> rotated = other_ca_->Issue("tccd-rotated");
  ASSERT_OK(rotated);
  testing::WriteGenerations(dir_.path(), "tccd", {{"gen1", server_}, {"gen2", *rotated}});
  testing::PointSymlinkAt(dir_.path() / "live", dir_.path() / "gen1");
  // First step of a rotation: clients trust the old and the new CA.
  ASSERT_OK(
      testing::WriteBundle(dir_.File("both-cas.pem"), {ca_->cert_file(), other_ca_->cert_file()}));
  int port = Start([&](DaemonConfig& config) {
    ServeTls(config, true);
    config.tls.cert_file = dir_.File("live/tccd.pem");
    config.tls.key_file = dir_.File("live/tccd.key");
    config.tls.refresh_interval = absl::Seconds(1);
  });
  ASSERT_GT(port, 0);
  TlsOptions client_tls = ClientTls(&client_);
  client_tls.ca_file = dir_.File("both-cas.pem");
  ASSERT_EQ(ServerCn(port, client_tls), "tccd");

  testing::CallLoad load(Begins(port, client_tls));
  ASSERT_TRUE(WaitFor([&] { return load.calls() > 20; }));
  testing::PointSymlinkAt(dir_.path() / "live", dir_.path() / "gen2");
  EXPECT_TRUE(WaitFor([&] { return ServerCn(port, client_tls) == "tccd-rotated"; },
                      std::chrono::seconds(15)));
  int at_switch = load.calls();
  ASSERT_TRUE(WaitFor([&] { return load.calls() > at_switch + 20; }));
  load.Stop();
  EXPECT_EQ(load.failures(), 0) << "of " << load.calls() << "; last: " << load.last_error();
  // A client that trusts only the old CA can no longer connect.
  EXPECT_THAT(Client(port, ClientTls(&client_))->Begin("old-ca-only"),
              StatusIs(absl::StatusCode::kUnavailable));
}

}  // namespace
}  // namespace tcc
