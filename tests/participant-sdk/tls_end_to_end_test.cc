// The SDK over mutual TLS on every hop, with a real tccd process: the
// initiator (InitiatorClient::Connect) to tccd, tccd to the participant
// (ParticipantServer with TLS, requiring tccd's client certificate) and to
// the initiator's StatusEndpoint for the back-query. Certificates come from
// a throwaway CA made with openssl in the test's temp dir.
#include <gtest/gtest.h>

#include "tcc/common/tls.h"
#include "tcc/sdk/decision.h"
#include "tests/participant-sdk/tccd_fixture.h"
#include "tests/test_util/test_certs.h"

namespace tcc::sdk::testing {
namespace {

using ::tcc::testing::CertFiles;
using ::tcc::testing::StatusIs;
using ::tcc::testing::TestCa;

class TlsEndToEndTest : public TccdFixture {
 protected:
  void SetUp() override {
    absl::StatusOr<TestCa> ca = TestCa::Create(dir_.path().string(), "ca");
    ASSERT_OK(ca);
    ca_.emplace(*ca);
    for (auto [name, files] : {std::pair{"tccd", &tccd_cert_},
                               {"tccd-client", &tccd_client_},
                               {"points", &points_cert_},
                               {"shop", &shop_cert_}}) {
      absl::StatusOr<CertFiles> issued = ca_->Issue(name);
      ASSERT_OK(issued);
      *files = *issued;
    }
    StartTccd();
    absl::StatusOr<std::unique_ptr<InitiatorClient>> client =
        InitiatorClient::Connect(tccd_address_, MutualTls(shop_cert_));
    ASSERT_OK(client);
    client_ = *std::move(client);
    StartParticipant();
    StartStatusEndpoint();
  }

  // Verifies peers with the test CA and presents `identity`; as a server,
  // requires the peer's certificate.
  TlsOptions MutualTls(const CertFiles& identity) const {
    return {.cert_file = identity.cert_file,
            .key_file = identity.key_file,
            .ca_file = ca_->cert_file(),
            .require_client_cert = true};
  }
  void StartTccd() {
    absl::StatusOr<std::unique_ptr<TccdProcess>> tccd = TccdProcess::Start(
        {.binary = TCCD_PATH,
         .data = dir_.File("tccd.db"),
         .work_dir = dir_.path().string(),
         .extra_args = {
             "--retry_initial_ms=20", "--retry_max_ms=200", "--tls_cert=" + tccd_cert_.cert_file,
             "--tls_key=" + tccd_cert_.key_file, "--tls_client_ca=" + ca_->cert_file(),
             "--participant_ca=" + ca_->cert_file(), "--participant_cert=" + tccd_client_.cert_file,
             "--participant_key=" + tccd_client_.key_file}});
    ASSERT_OK(tccd);
    tccd_ = *std::move(tccd);
    tccd_address_ = tccd_->address();
  }
  void StartParticipant() {
    points_db_ = OpenTestDb(dir_.File("points.db"));
    ASSERT_OK(points_.Setup(*points_db_, "alice", 100));
    participant_ = std::make_unique<ParticipantServer>(
        points_db_, ParticipantServerOptions{.tls = MutualTls(points_cert_)});
    ASSERT_OK(participant_->AddAction("points.freeze", points_.Handlers()));
    ASSERT_OK(participant_->Start("127.0.0.1:0"));
  }
  void StartStatusEndpoint() {
    shop_db_ = OpenTestDb(dir_.File("shop.db"));
    ASSERT_OK(shop_db_->RunInTransaction([](LocalTx& tx) {
      return tx.Exec("CREATE TABLE orders (id TEXT PRIMARY KEY, gid TEXT)").status();
    }));
    status_endpoint_ = std::make_unique<StatusEndpoint>(
        shop_db_, StatusEndpointOptions{.tls = MutualTls(shop_cert_)});
    ASSERT_OK(status_endpoint_->Start("127.0.0.1:0"));
  }

  std::optional<TestCa> ca_;
  CertFiles tccd_cert_, tccd_client_, points_cert_, shop_cert_;
};

TEST_F(TlsEndToEndTest, PaymentCommitsOverMutualTlsOnEveryHop) {
  auto gt = client_->BeginGuarded(Params("tls-pay-1"));
  ASSERT_OK(gt);
  auto tried = gt->Try({Freeze(30)});
  ASSERT_OK(tried);
  ASSERT_TRUE(AllTriesSucceeded(*tried)) << tried->DebugString();
  auto committed = gt->CommitWithLocalTransaction(
      *shop_db_, [&](LocalTx& tx) { return InsertOrder(tx, "tls-pay-1"); });
  ASSERT_OK(committed);
  ASSERT_TRUE(WaitForState("tls-pay-1", tcc::v1::TRANSACTION_STATE_COMMITTED));
  EXPECT_EQ(Balance(*points_db_, "alice"), 70);
  EXPECT_EQ(points_.confirm_runs, 1);
}

TEST_F(TlsEndToEndTest, BackQueryReachesTheStatusEndpointOverMutualTls) {
  ASSERT_OK(client_->Begin(Params("tls-pay-2", absl::Milliseconds(300))));
  auto tried = client_->Try("tls-pay-2", {Freeze(40)});
  ASSERT_OK(tried);
  ASSERT_TRUE(AllTriesSucceeded(*tried));
  // Committed locally, Commit never sent: only the back-query can tell.
  ASSERT_OK(CommitLocally(*shop_db_, "tls-pay-2",
                          [&](LocalTx& tx) { return InsertOrder(tx, "tls-pay-2"); }));
  ASSERT_TRUE(WaitForState("tls-pay-2", tcc::v1::TRANSACTION_STATE_COMMITTED));
  EXPECT_EQ(Balance(*points_db_, "alice"), 60);
}

TEST_F(TlsEndToEndTest, AnInitiatorWithoutACertificateIsRefused) {
  absl::StatusOr<std::unique_ptr<InitiatorClient>> anonymous = InitiatorClient::Connect(
      tccd_address_, {.ca_file = ca_->cert_file()}, {.call_timeout = absl::Seconds(2)});
  ASSERT_OK(anonymous);
  EXPECT_THAT((*anonymous)->Begin(Params("anonymous")).status(),
              StatusIs(absl::StatusCode::kUnavailable));
  absl::StatusOr<std::unique_ptr<InitiatorClient>> plaintext =
      InitiatorClient::Connect(tccd_address_, {}, {.call_timeout = absl::Seconds(2)});
  ASSERT_OK(plaintext);
  EXPECT_THAT((*plaintext)->Begin(Params("plaintext")).status(),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(client_->Get("anonymous").status(), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(client_->Get("plaintext").status(), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(TlsEndToEndTest, UnusableFilesAreRefusedUpFront) {
  TlsOptions missing_key = MutualTls(shop_cert_);
  missing_key.key_file = dir_.File("absent.key");
  EXPECT_THAT(InitiatorClient::Connect(tccd_address_, missing_key).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, dir_.File("absent.key")));
  ParticipantServer server(points_db_, {.tls = missing_key});
  ASSERT_OK(server.AddAction("points.freeze", points_.Handlers()));
  EXPECT_THAT(server.Start("127.0.0.1:0"),
              StatusIs(absl::StatusCode::kInvalidArgument, "cannot read"));
}

}  // namespace
}  // namespace tcc::sdk::testing
