// tccd as a TLS client: the overrides file's parsing, and real TCC
// transactions from an in-process tccd to fake participants that serve TLS
// (one requiring tccd's client certificate, one signed by another CA named
// in an override), plus the plaintext default refused by a TLS participant.
#include "coordinator/transport/participant_tls.h"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/coordinator/fake_participant.h"
#include "tests/coordinator/server/test_daemon.h"
#include "tests/test_util/status_matchers.h"
#include "tests/test_util/temp_dir.h"
#include "tests/test_util/test_certs.h"
#include "tests/test_util/wait.h"

namespace tcc {
namespace {

using ::tcc::testing::CertFiles;
using ::tcc::testing::FakeParticipant;
using ::tcc::testing::MakeTry;
using ::tcc::testing::StatusIs;
using ::tcc::testing::TempDir;
using ::tcc::testing::TestCa;
using ::tcc::testing::TestPki;
using ::tcc::testing::WaitFor;

TEST(ParseTlsOverridesTest, ReadsTargetsCommentsAndPlaintext) {
  absl::StatusOr<std::vector<TlsOverride>> entries = ParseTlsOverrides(
      "# per-target TLS\n"
      "pay:1  ca=/a/ca.pem cert=/a/c.pem key=/a/c.key  # mutual\n"
      "\n"
      "  legacy:2 plaintext\n",
      "o.txt");
  ASSERT_OK(entries);
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].target, "pay:1");
  EXPECT_EQ((*entries)[0].tls.ca_file, "/a/ca.pem");
  EXPECT_EQ((*entries)[0].tls.cert_file, "/a/c.pem");
  EXPECT_EQ((*entries)[0].tls.key_file, "/a/c.key");
  EXPECT_FALSE((*entries)[0].plaintext);
  EXPECT_EQ((*entries)[1].target, "legacy:2");
  EXPECT_TRUE((*entries)[1].plaintext);
}

TEST(ParseTlsOverridesTest, ErrorsNameTheFileAndLine) {
  EXPECT_THAT(ParseTlsOverrides("a:1 ca=x\nb:2 cafile=y\n", "o.txt").status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "--participant_tls_overrides o.txt line 2: \"cafile=y\" is not ca=FILE"));
  EXPECT_THAT(ParseTlsOverrides("a:1\n", "o.txt").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "line 1: a:1: give either ca=FILE"));
  EXPECT_THAT(ParseTlsOverrides("a:1 plaintext ca=x\n", "o.txt").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "give either"));
  EXPECT_THAT(ParseTlsOverrides("a:1 ca=x\na:1 plaintext\n", "o.txt").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "line 2: a:1 is listed twice"));
}

TEST(ParticipantCredentialsTest, RequiredRefusesAnyPlaintextTarget) {
  EXPECT_THAT(ParticipantCredentials::Create({.required = true}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "--participant_tls_required needs --participant_ca"));
}

class ParticipantTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<TestPki> pki = TestPki::Create(dir_.path().string());
    ASSERT_OK(pki);
    pki_.emplace(*std::move(pki));
    ca_ = &pki_->ca();
    other_ca_ = &pki_->other_ca();
    for (auto [name, files, issuer] : {std::tuple{"participant", &participant_, ca_},
                                       {"tccd-client", &tccd_client_, ca_},
                                       {"foreign-participant", &foreign_, other_ca_}}) {
      absl::StatusOr<CertFiles> issued = issuer->Issue(name);
      ASSERT_OK(issued);
      *files = *issued;
    }
  }

  // A fake participant serving TLS with `identity`; with `client_ca`, it
  // requires a client certificate that chains to it.
  int StartParticipant(FakeParticipant& participant, const CertFiles& identity,
                       const std::string& client_ca) {
    absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
        MakeServerCredentials({.cert_file = identity.cert_file,
                               .key_file = identity.key_file,
                               .ca_file = client_ca,
                               .require_client_cert = !client_ca.empty()});
    EXPECT_OK(credentials);
    return credentials.ok() ? participant.Start(0, *credentials) : 0;
  }
  void StartTccd(const std::function<void(DaemonConfig&)>& configure) {
    auto [daemon, client] = ::tcc::testing::StartTestDaemon(dir_, [&](DaemonConfig& config) {
      config.http_listen = "";
      config.engine.call_timeout = absl::Seconds(2);
      configure(config);
    });
    ASSERT_NE(daemon, nullptr);
    daemon_ = std::move(daemon);
    client_ = std::move(client);
  }
  void MutualDefaults(DaemonConfig& config) const {
    config.participant_tls.defaults.ca_file = ca_->cert_file();
    config.participant_tls.defaults.cert_file = tccd_client_.cert_file;
    config.participant_tls.defaults.key_file = tccd_client_.key_file;
  }
  // Begin, Try on `participant`, Commit: the Try's result.
  v1::TryResult RunTcc(const std::string& gid, const FakeParticipant& participant) {
    EXPECT_OK(client_->Begin(gid));
    absl::StatusOr<v1::TryReply> tried = client_->Try(MakeTry(gid, {{"b", participant.address()}}));
    EXPECT_OK(tried);
    if (!tried.ok() || tried->results_size() != 1) return v1::TRY_RESULT_UNSPECIFIED;
    if (tried->results(0).result() == v1::TRY_RESULT_SUCCEEDED) EXPECT_OK(client_->Commit(gid));
    return tried->results(0).result();
  }
  bool Committed(const std::string& gid) {
    return WaitFor([&] {
      absl::StatusOr<v1::Transaction> gt = client_->Get(gid);
      return gt.ok() && gt->state() == v1::TRANSACTION_STATE_COMMITTED;
    });
  }

  TempDir dir_;
  std::optional<TestPki> pki_;
  const TestCa* ca_ = nullptr;
  const TestCa* other_ca_ = nullptr;
  CertFiles participant_, tccd_client_, foreign_;
  std::unique_ptr<Daemon> daemon_;
  std::unique_ptr<::tcc::testing::CoordinatorClient> client_;
};

TEST_F(ParticipantTlsTest, TccCommitsOnAParticipantThatRequiresTccdsCertificate) {
  FakeParticipant points;
  ASSERT_GT(StartParticipant(points, participant_, ca_->cert_file()), 0);
  StartTccd([&](DaemonConfig& config) { MutualDefaults(config); });
  ASSERT_NE(client_, nullptr);
  EXPECT_EQ(RunTcc("mtls-1", points), v1::TRY_RESULT_SUCCEEDED);
  EXPECT_TRUE(Committed("mtls-1"));
  EXPECT_EQ(points.Count("Try", "mtls-1"), 1);
  EXPECT_EQ(points.Count("Confirm", "mtls-1"), 1);
}

TEST_F(ParticipantTlsTest, PlaintextTccdNeverReachesATlsParticipant) {
  FakeParticipant points;
  ASSERT_GT(StartParticipant(points, participant_, ""), 0);
  StartTccd([](DaemonConfig&) {});
  ASSERT_NE(client_, nullptr);
  EXPECT_NE(RunTcc("plain-1", points), v1::TRY_RESULT_SUCCEEDED);
  EXPECT_EQ(points.Count("Try"), 0);
}

TEST_F(ParticipantTlsTest, WithoutItsCertificateTccdIsRefusedByAMutualTlsParticipant) {
  FakeParticipant points;
  ASSERT_GT(StartParticipant(points, participant_, ca_->cert_file()), 0);
  StartTccd(
      [&](DaemonConfig& config) { config.participant_tls.defaults.ca_file = ca_->cert_file(); });
  ASSERT_NE(client_, nullptr);
  EXPECT_NE(RunTcc("no-cert-1", points), v1::TRY_RESULT_SUCCEEDED);
  EXPECT_EQ(points.Count("Try"), 0);
}

TEST_F(ParticipantTlsTest, AnOverrideGivesOneTargetAnotherCa) {
  FakeParticipant points, foreign;
  ASSERT_GT(StartParticipant(points, participant_, ca_->cert_file()), 0);
  ASSERT_GT(StartParticipant(foreign, foreign_, ""), 0);
  std::ofstream(dir_.File("overrides.txt"))
      << "# the foreign participant has its own CA\n"
      << foreign.address() << " ca=" << other_ca_->cert_file() << "\n";
  StartTccd([&](DaemonConfig& config) {
    MutualDefaults(config);
    config.participant_tls.overrides_file = dir_.File("overrides.txt");
  });
  ASSERT_NE(client_, nullptr);
  EXPECT_EQ(RunTcc("default-ca", points), v1::TRY_RESULT_SUCCEEDED);
  EXPECT_EQ(RunTcc("override-ca", foreign), v1::TRY_RESULT_SUCCEEDED);
  EXPECT_TRUE(Committed("default-ca"));
  EXPECT_TRUE(Committed("override-ca"));
  EXPECT_EQ(foreign.Count("Confirm", "override-ca"), 1);
}

TEST_F(ParticipantTlsTest, ABadOverridesFileStopsTheStart) {
  std::ofstream(dir_.File("overrides.txt")) << "pay:1 ca=" << dir_.File("absent.pem") << "\n";
  DaemonConfig config;
  config.listen = "127.0.0.1:0";
  config.data_path = dir_.File("tccd.db");
  config.participant_tls.overrides_file = dir_.File("overrides.txt");
  EXPECT_THAT(
      Daemon::Start(std::move(config)).status(),
      StatusIs(absl::StatusCode::kInvalidArgument,
               absl::StrCat("ca=", dir_.File("absent.pem"), " on --participant_tls_overrides ",
                            dir_.File("overrides.txt"), " line 1: cannot read")));
}

}  // namespace
}  // namespace tcc
