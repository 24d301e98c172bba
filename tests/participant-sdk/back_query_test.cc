// The coordinator's back-query of the initiator (scenario S4) with a real
// tccd process: the slow-initiator race made deterministic with an SDK
// hook, a status endpoint that is down for a while, and 200 rounds of
// random commit / crash / timeout timings checked against S1's invariants.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "absl/random/random.h"
#include "tcc/sdk/decision.h"
#include "tcc/sdk/hooks.h"
#include "tests/participant-sdk/tccd_fixture.h"

namespace tcc::sdk::testing {
namespace {

class BackQueryTest : public TccdFixture {
 protected:
  absl::Status InsertOrderFor(LocalTx& tx, const std::string& gid) {
    return tx.Exec("INSERT INTO orders VALUES (?, ?)", {gid, gid}).status();
  }
  std::string Endpoint() { return absl::StrCat("127.0.0.1:", status_endpoint_->port()); }
  // Begins `gid` and freezes `amount` points; false when the Try did not
  // succeed (e.g. the transaction had already timed out).
  bool BeginAndTry(const std::string& gid, absl::Duration timeout, int64_t amount,
                   const std::string& user = "alice") {
    if (!client_->Begin({.gid = gid, .timeout = timeout, .status_endpoint = Endpoint()}).ok()) {
      return false;
    }
    tcc::v1::BranchSpec spec = Freeze(amount);
    spec.set_payload(absl::StrCat(user, ":", amount));
    auto tried = client_->Try(gid, {spec});
    return tried.ok() && AllTriesSucceeded(*tried);
  }
};

TEST_F(BackQueryTest, SlowInitiatorLosesToTheFenceAndReportsFailure) {
  HookRegistry hooks;
  InitiatorClient slow_client(
      grpc::CreateChannel(tccd_address_, grpc::InsecureChannelCredentials()), {.hooks = &hooks});
  ASSERT_TRUE(BeginAndTry("race-1", absl::Milliseconds(500), 30));
  // Hold the local commit until the coordinator has timed out, asked the
  // status endpoint (which fenced the gid) and rolled back.
  hooks.Set(kHookBeforeLocalTransaction, [&](std::string_view) {
    EXPECT_TRUE(WaitForState("race-1", tcc::v1::TRANSACTION_STATE_ROLLED_BACK));
    return absl::OkStatus();
  });
  auto committed = slow_client.CommitWithLocalTransaction(
      *shop_db_, "race-1", [&](LocalTx& tx) { return InsertOrderFor(tx, "race-1"); });
  ASSERT_FALSE(committed.ok());
  EXPECT_EQ(committed.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(std::string(committed.status().message()).find("rolled back"), std::string::npos)
      << committed.status();
  // Nobody is left paid: no order, no deduction, nothing frozen.
  EXPECT_EQ(QueryInt(*shop_db_, "SELECT COUNT(*) FROM orders"), 0);
  EXPECT_EQ(Balance(*points_db_, "alice"), 100);
  EXPECT_EQ(Frozen(*points_db_, "alice"), 0);
  auto gt = client_->Get("race-1");
  ASSERT_OK(gt);
  EXPECT_NE(gt->decision_reason().find("timeout"), std::string::npos) << gt->decision_reason();
}

TEST_F(BackQueryTest, StatusEndpointDownIsNeverGuessedAndResolvesOnceBack) {
  ASSERT_TRUE(BeginAndTry("down-1", absl::Seconds(1), 25));
  ASSERT_OK(CommitLocally(*shop_db_, "down-1",
                          [&](LocalTx& tx) { return InsertOrderFor(tx, "down-1"); }));
  int port = status_endpoint_->port();
  status_endpoint_->Shutdown();
  // Well past the timeout, with the back-query failing: still undecided.
  for (int i = 0; i < 50; ++i) {
    auto gt = client_->Get("down-1");
    ASSERT_OK(gt);
    ASSERT_EQ(gt->state(), tcc::v1::TRANSACTION_STATE_TRYING) << "resolved without an answer";
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  status_endpoint_ = std::make_unique<StatusEndpoint>(shop_db_);
  ASSERT_OK(status_endpoint_->Start(absl::StrCat("127.0.0.1:", port)));
  ASSERT_TRUE(WaitForState("down-1", tcc::v1::TRANSACTION_STATE_COMMITTED));
  EXPECT_EQ(Balance(*points_db_, "alice"), 75);
  EXPECT_EQ(Frozen(*points_db_, "alice"), 0);
}

// What an initiator does in one round, chosen at random.
enum class Fate {
  kCommit,
  kCrashBeforeLocalCommit,
  kCrashAfterLocalCommit,
  kSlowCommit,
  kRollback
};

TEST_F(BackQueryTest, RandomTimingsNeverBreakTheInvariants) {
  constexpr int kRounds = 200;
  constexpr int kThreads = 10;
  constexpr int64_t kStart = 1000000;
  ASSERT_OK(points_.Setup(*points_db_, "bob", kStart));
  std::vector<int64_t> amounts(kRounds);
  std::vector<std::thread> workers;
  for (int t = 0; t < kThreads; ++t) {
    workers.emplace_back([&, t] {
      absl::BitGen random;
      for (int r = t; r < kRounds; r += kThreads) {
        std::string gid = absl::StrCat("round-", r);
        amounts[r] = absl::Uniform(random, 1, 10);
        absl::Duration timeout = absl::Milliseconds(absl::Uniform(random, 50, 250));
        // Under load a short timeout may expire before the Try finished:
        // one more way for a round to end in a rollback.
        if (!BeginAndTry(gid, timeout, amounts[r], "bob")) continue;
        auto fn = [&](LocalTx& tx) { return InsertOrderFor(tx, gid); };
        switch (static_cast<Fate>(absl::Uniform(random, 0, 5))) {
          case Fate::kCommit:
            client_->CommitWithLocalTransaction(*shop_db_, gid, fn).IgnoreError();
            break;
          case Fate::kCrashBeforeLocalCommit:
            break;  // Never decides: the back-query fences and rolls back.
          case Fate::kCrashAfterLocalCommit:
            CommitLocally(*shop_db_, gid, fn).IgnoreError();
            break;
          case Fate::kSlowCommit:
            std::this_thread::sleep_for(
                absl::ToChronoMilliseconds(timeout * absl::Uniform(random, 0.5, 1.5)));
            client_->CommitWithLocalTransaction(*shop_db_, gid, fn).IgnoreError();
            break;
          case Fate::kRollback:
            client_->Rollback(gid).IgnoreError();
            break;
        }
      }
    });
  }
  for (auto& worker : workers) worker.join();

  int64_t committed_amount = 0;
  int committed = 0;
  for (int r = 0; r < kRounds; ++r) {
    std::string gid = absl::StrCat("round-", r);
    ASSERT_TRUE(WaitFor([&] {
      auto gt = client_->Get(gid);
      return gt.ok() && (gt->state() == tcc::v1::TRANSACTION_STATE_COMMITTED ||
                         gt->state() == tcc::v1::TRANSACTION_STATE_ROLLED_BACK);
    })) << gid
        << " never became final";
    bool coordinator_committed = client_->Get(gid)->state() == tcc::v1::TRANSACTION_STATE_COMMITTED;
    int64_t orders =
        QueryInt(*shop_db_, absl::StrCat("SELECT COUNT(*) FROM orders WHERE id = '", gid, "'"));
    // S4: the initiator and the coordinator agree on every transaction.
    EXPECT_EQ(orders, coordinator_committed ? 1 : 0) << gid;
    if (coordinator_committed) {
      committed_amount += amounts[r];
      ++committed;
    }
  }
  // S1: deducted exactly once per committed payment, nothing left frozen.
  EXPECT_EQ(Balance(*points_db_, "bob"), kStart - committed_amount);
  EXPECT_EQ(Frozen(*points_db_, "bob"), 0);
  EXPECT_GT(committed, 0);
  EXPECT_LT(committed, kRounds);
  std::printf("%d rounds: %d committed, %d rolled back; invariants hold\n", kRounds, committed,
              kRounds - committed);
}

}  // namespace
}  // namespace tcc::sdk::testing
