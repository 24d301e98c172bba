// Group commit in the SQLite adapter: concurrent calls share one transaction
// and one COMMIT, yet each keeps RunInTransaction's own semantics (its
// writes roll back alone, it gets its own status, it returns only once
// durable). Groups are built deterministically: a first call holds its
// group's transaction open until the adapter reports every other call
// inside RunInTransaction, hence in the same group.
#include <sqlite3.h>

#include <atomic>
#include <functional>
#include <iostream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tcc/common/notification.h"
#include "tcc/common/status_macros.h"
#include "tcc/sdk/decision.h"
#include "tcc/sdk/local_db.h"
#include "tests/participant-sdk/sqlite_failing_vfs.h"
#include "tests/participant-sdk/test_db.h"

namespace tcc::sdk::testing {
namespace {

using TxFunction = std::function<absl::Status(LocalTx&)>;

std::unique_ptr<Database> Open(const std::string& path, bool group_commit,
                               bool synchronous_full = false) {
  SqliteOptions options;
  options.group_commit = group_commit;
  options.synchronous_full = synchronous_full;
  options.busy_timeout = absl::Seconds(30);
  options.max_connections = 16;
  absl::StatusOr<std::unique_ptr<Database>> db = OpenSqliteDatabase(path, options);
  EXPECT_TRUE(db.ok()) << db.status();
  return db.ok() ? *std::move(db) : nullptr;
}

TxFunction Insert(std::string key) {
  return [key](LocalTx& tx) { return tx.Exec("INSERT INTO t (k) VALUES (?)", {key}).status(); };
}

void WaitForCallsInProgress(const Database& db, int64_t calls) {
  absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (GetSqliteCommitStats(db).calls_in_progress != calls) {
    ASSERT_LT(absl::Now(), deadline) << "calls never reached the database";
    absl::SleepFor(absl::Milliseconds(1));
  }
}

// Runs `first` and then each of `others` (each making exactly one
// RunInTransaction call on db) from threads of their own, in one group.
void RunInOneGroup(Database& db, const TxFunction& first,
                   const std::vector<std::function<void()>>& others,
                   absl::Status* first_status = nullptr) {
  tcc::Notification holding, release;
  std::thread holder([&] {
    absl::Status status = db.RunInTransaction([&](LocalTx& tx) {
      holding.Notify();
      release.WaitForNotification();
      return first(tx);
    });
    if (first_status != nullptr) *first_status = status;
  });
  holding.WaitForNotification();
  std::vector<std::thread> threads;
  for (const auto& call : others) threads.emplace_back(call);
  WaitForCallsInProgress(db, 1 + static_cast<int64_t>(others.size()));
  release.Notify();
  holder.join();
  for (auto& t : threads) t.join();
}

// Every fn in one group; returns each call's status, in the order of fns.
std::vector<absl::Status> RunInOneGroup(Database& db, const std::vector<TxFunction>& fns) {
  std::vector<absl::Status> results(fns.size());
  std::vector<std::function<void()>> others;
  for (size_t i = 1; i < fns.size(); ++i) {
    others.push_back([&, i] { results[i] = db.RunInTransaction(fns[i]); });
  }
  RunInOneGroup(db, fns[0], others, &results[0]);
  return results;
}

class GroupCommitTest : public ::testing::Test {
 protected:
  void SetUp() override { OpenAndCreateTable(); }

  void OpenAndCreateTable() {
    db_ = Open(path_, /*group_commit=*/true);
    ASSERT_NE(db_, nullptr);
    ASSERT_OK(db_->RunInTransaction([](LocalTx& tx) {
      return tx.Exec("CREATE TABLE IF NOT EXISTS t (k TEXT PRIMARY KEY)").status();
    }));
  }

  // What another connection (a fresh one, not the group's) sees on disk.
  int64_t CountFromFreshConnection(const std::string& where = "1") {
    std::unique_ptr<Database> fresh = Open(path_, /*group_commit=*/false);
    return fresh == nullptr ? -1 : QueryInt(*fresh, "SELECT COUNT(*) FROM t WHERE " + where);
  }

  TempDir dir_;
  const std::string path_ = dir_.File("g.db");
  std::unique_ptr<Database> db_;
};

TEST_F(GroupCommitTest, LoneCallsCommitAtOnceOneTransactionEach) {
  SqliteCommitStats before = GetSqliteCommitStats(*db_);
  for (int i = 0; i < 5; ++i) ASSERT_OK(db_->RunInTransaction(Insert(absl::StrCat("k", i))));
  SqliteCommitStats after = GetSqliteCommitStats(*db_);
  EXPECT_EQ(after.calls - before.calls, 5);
  EXPECT_EQ(after.transactions - before.transactions, 5);
  EXPECT_EQ(after.largest_group, 1);
  EXPECT_EQ(after.calls_in_progress, 0);
}

TEST_F(GroupCommitTest, OneGroupIsOneTransaction) {
  SqliteCommitStats before = GetSqliteCommitStats(*db_);
  std::vector<absl::Status> results =
      RunInOneGroup(*db_, {Insert("a"), Insert("b"), Insert("c"), Insert("d")});
  for (const absl::Status& status : results) EXPECT_OK(status);
  SqliteCommitStats after = GetSqliteCommitStats(*db_);
  EXPECT_EQ(after.calls - before.calls, 4);
  EXPECT_EQ(after.transactions - before.transactions, 1);
  EXPECT_EQ(after.largest_group, 4);
  EXPECT_EQ(CountFromFreshConnection(), 4);
}

TEST_F(GroupCommitTest, FailingCallRollsBackOnlyItsOwnWrites) {
  TxFunction fails = [](LocalTx& tx) -> absl::Status {
    TCC_RETURN_IF_ERROR(tx.Exec("INSERT INTO t (k) VALUES ('b')").status());
    return absl::AbortedError("changed my mind");
  };
  std::vector<absl::Status> results = RunInOneGroup(*db_, {Insert("a"), fails, Insert("c")});
  EXPECT_OK(results[0]);
  EXPECT_TRUE(absl::IsAborted(results[1])) << results[1];
  EXPECT_EQ(results[1].message(), "changed my mind");
  EXPECT_OK(results[2]);
  EXPECT_EQ(CountFromFreshConnection(), 2);
  EXPECT_EQ(CountFromFreshConnection("k = 'b'"), 0);
}

TEST_F(GroupCommitTest, UniqueKeyDecidesBetweenCallsOfOneGroup) {
  std::vector<absl::Status> results = RunInOneGroup(*db_, {Insert("a"), Insert("a")});
  EXPECT_OK(results[0]);
  EXPECT_TRUE(absl::IsAlreadyExists(results[1])) << results[1];
  EXPECT_EQ(CountFromFreshConnection(), 1);
}

TEST_F(GroupCommitTest, ThrowingCallRollsBackOnlyItselfAndRethrows) {
  bool threw = false;
  TxFunction throws = [](LocalTx& tx) -> absl::Status {
    tx.Exec("INSERT INTO t (k) VALUES ('b')").IgnoreError();
    throw std::runtime_error("handler bug");
  };
  absl::Status first, last;
  RunInOneGroup(*db_, Insert("a"),
                {[&] {
                   try {
                     db_->RunInTransaction(throws).IgnoreError();
                   } catch (const std::runtime_error&) {
                     threw = true;
                   }
                 },
                 [&] { last = db_->RunInTransaction(Insert("c")); }},
                &first);
  EXPECT_TRUE(threw);
  EXPECT_OK(first);
  EXPECT_OK(last);
  EXPECT_EQ(CountFromFreshConnection(), 2);
  EXPECT_EQ(CountFromFreshConnection("k = 'b'"), 0);
}

// Ending the shared transaction from inside fn is a handler bug; the calls
// that ran with it fail (retryably), the ones that had not run yet go to a
// later group and succeed.
TEST_F(GroupCommitTest, CallsAfterALostTransactionRunInALaterGroup) {
  TxFunction ends_it = [](LocalTx& tx) -> absl::Status {
    TCC_RETURN_IF_ERROR(tx.Exec("INSERT INTO t (k) VALUES ('a')").status());
    return tx.Exec("ROLLBACK").status();
  };
  std::vector<absl::Status> results = RunInOneGroup(*db_, {ends_it, Insert("b"), Insert("c")});
  EXPECT_TRUE(absl::IsUnavailable(results[0])) << results[0];
  EXPECT_OK(results[1]);
  EXPECT_OK(results[2]);
  EXPECT_EQ(CountFromFreshConnection(), 2);
  EXPECT_EQ(CountFromFreshConnection("k = 'a'"), 0);
}

// A full disk is not fixed by retrying at once: the failed COMMIT's own code
// reaches the caller instead of UNAVAILABLE.
TEST_F(GroupCommitTest, CommitOnAFullDiskKeepsItsCode) {
  db_.reset();
  FailingWalVfs vfs;
  OpenAndCreateTable();
  absl::Status full = db_->RunInTransaction([&](LocalTx& tx) {
    vfs.Arm(SQLITE_FULL);
    return Insert("a")(tx);
  });
  vfs.Disarm();
  EXPECT_TRUE(absl::IsResourceExhausted(full)) << full;
  EXPECT_NE(full.message().find("commit failed"), std::string::npos) << full;
  EXPECT_EQ(CountFromFreshConnection(), 0);
  db_.reset();
}

TEST_F(GroupCommitTest, NestedCallFailsInsteadOfHanging) {
  absl::Status inner;
  ASSERT_OK(db_->RunInTransaction([&](LocalTx&) {
    inner = db_->RunInTransaction(Insert("a"));
    return absl::OkStatus();
  }));
  EXPECT_TRUE(absl::IsInternal(inner)) << inner;
}

TEST_F(GroupCommitTest, CommitFailureFailsEveryCallOfTheGroupAndWritesNothing) {
  db_.reset();
  FailingWalVfs vfs;
  OpenAndCreateTable();
  std::vector<absl::Status> results(3);
  RunInOneGroup(
      *db_,
      [&](LocalTx& tx) {
        vfs.Arm();  // Everyone has joined; only the COMMIT writes the WAL.
        return Insert("a")(tx);
      },
      {[&] { results[1] = db_->RunInTransaction(Insert("b")); },
       [&] {
         results[2] = db_->RunInTransaction([](LocalTx& tx) -> absl::Status {
           TCC_RETURN_IF_ERROR(Insert("c")(tx));
           return absl::NotFoundError("its own failure");
         });
       }},
      &results[0]);
  vfs.Disarm();
  EXPECT_GT(vfs.failures(), 0);
  for (const absl::Status& status : results) {
    EXPECT_TRUE(absl::IsUnavailable(status)) << status;
    EXPECT_NE(status.message().find("commit failed"), std::string::npos) << status;
  }
  EXPECT_EQ(CountFromFreshConnection(), 0);
  // The connection recovers: the next group commits.
  EXPECT_OK(db_->RunInTransaction(Insert("d")));
  EXPECT_EQ(CountFromFreshConnection(), 1);
  db_.reset();
}

// SQLite builds with SQLITE_DEFAULT_FOREIGN_KEYS=1 enforce foreign keys on
// every connection; this extension does the same here, since PRAGMA
// foreign_keys cannot be changed inside the transaction fn runs in.
int EnableForeignKeys(sqlite3* db, char**, const sqlite3_api_routines*) {
  return sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_FKEY, 1, nullptr);
}

class ForeignKeysOn {
 public:
  ForeignKeysOn() { sqlite3_auto_extension(Entry()); }
  ~ForeignKeysOn() { sqlite3_cancel_auto_extension(Entry()); }

 private:
  static void (*Entry())() { return reinterpret_cast<void (*)()>(&EnableForeignKeys); }
};

// A deferred key is checked at COMMIT, which the group shares: the adapter
// checks it per call, so only the call that left it unresolved fails, with
// the code its own COMMIT would have given.
TEST_F(GroupCommitTest, UnresolvedDeferredKeyFailsOnlyItsOwnCall) {
  db_.reset();
  ForeignKeysOn foreign_keys;
  OpenAndCreateTable();
  ASSERT_OK(db_->RunInTransaction([](LocalTx& tx) {
    return tx.Exec("CREATE TABLE child (k TEXT REFERENCES t (k) DEFERRABLE INITIALLY DEFERRED)")
        .status();
  }));
  TxFunction orphan = [](LocalTx& tx) {
    return tx.Exec("INSERT INTO child (k) VALUES ('nobody')").status();
  };
  TxFunction parent_later = [](LocalTx& tx) -> absl::Status {
    TCC_RETURN_IF_ERROR(tx.Exec("INSERT INTO child (k) VALUES ('b')").status());
    return Insert("b")(tx);
  };
  std::vector<absl::Status> results = RunInOneGroup(*db_, {Insert("a"), orphan, parent_later});
  EXPECT_OK(results[0]);
  EXPECT_TRUE(absl::IsFailedPrecondition(results[1])) << results[1];
  EXPECT_OK(results[2]);
  EXPECT_EQ(CountFromFreshConnection(), 2);
  EXPECT_EQ(QueryInt(*db_, "SELECT COUNT(*) FROM child"), 1);

  // Without group commit the COMMIT itself fails, with the same code.
  std::unique_ptr<Database> pooled = Open(path_, /*group_commit=*/false);
  absl::Status alone = pooled->RunInTransaction(orphan);
  EXPECT_TRUE(absl::IsFailedPrecondition(alone)) << alone;
  db_.reset();
}

// The local commit and the back-query's fence use the same unique key; in
// one group whichever runs first wins, and both sides agree on it.
TEST_F(GroupCommitTest, LocalCommitAndFenceInOneGroupHaveOneWinner) {
  ASSERT_OK(CreateDecisionTable(*db_));
  for (int round = 0; round < 20; ++round) {
    std::string gid = absl::StrCat("gid-", round);
    absl::StatusOr<LocalCommit> commit;
    absl::StatusOr<LocalDecision> decision;
    SqliteCommitStats before = GetSqliteCommitStats(*db_);
    RunInOneGroup(*db_, Insert(absl::StrCat("holder-", round)),
                  {[&] { commit = CommitLocally(*db_, gid, Insert(gid)); },
                   [&] { decision = FenceOrReadDecision(*db_, gid); }});
    EXPECT_EQ(GetSqliteCommitStats(*db_).transactions - before.transactions, 1);
    ASSERT_OK(decision);
    bool commit_won = commit.ok();
    if (!commit_won) EXPECT_TRUE(absl::IsFailedPrecondition(commit.status())) << commit.status();
    EXPECT_EQ(commit_won, *decision == LocalDecision::kCommitted) << gid;
    EXPECT_EQ(CountFromFreshConnection(absl::StrCat("k = '", gid, "'")), commit_won ? 1 : 0);
  }
}

// The race of decision_fence_test, on one Database, so that the two sides
// often share a group.
TEST_F(GroupCommitTest, LocalCommitRacingTheFenceOnOneDatabaseAgrees) {
  ASSERT_OK(CreateDecisionTable(*db_));
  constexpr int kRounds = 300;
  int commits_won = 0;
  for (int round = 0; round < kRounds; ++round) {
    std::string gid = absl::StrCat("race-", round);
    absl::StatusOr<LocalCommit> commit;
    absl::StatusOr<LocalDecision> decision;
    std::thread initiator([&] { commit = CommitLocally(*db_, gid, Insert(gid)); });
    std::thread endpoint([&] { decision = FenceOrReadDecision(*db_, gid); });
    initiator.join();
    endpoint.join();
    ASSERT_TRUE(decision.ok()) << decision.status();
    ASSERT_TRUE(commit.ok() || absl::IsFailedPrecondition(commit.status())) << commit.status();
    ASSERT_EQ(commit.ok(), *decision == LocalDecision::kCommitted) << "round " << round;
    commits_won += commit.ok();
  }
  EXPECT_EQ(CountFromFreshConnection(), commits_won);
}

// Many threads at once, with real fsyncs: every call lands, durably, and
// with group commit far fewer transactions than calls.
class ConcurrentCallsTest : public ::testing::TestWithParam<bool> {};

TEST_P(ConcurrentCallsTest, EveryCallLandsAndGroupsShareCommits) {
  constexpr int kThreads = 16;
  constexpr int kCallsPerThread = 50;
  const bool group_commit = GetParam();
  TempDir dir;
  std::unique_ptr<Database> db = Open(dir.File("c.db"), group_commit, /*synchronous_full=*/true);
  ASSERT_NE(db, nullptr);
  ASSERT_OK(db->RunInTransaction(
      [](LocalTx& tx) { return tx.Exec("CREATE TABLE t (k TEXT PRIMARY KEY)").status(); }));
  SqliteCommitStats before = GetSqliteCommitStats(*db);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCallsPerThread; ++i) {
        if (!db->RunInTransaction(Insert(absl::StrCat(t, "-", i))).ok()) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures, 0);
  SqliteCommitStats after = GetSqliteCommitStats(*db);
  int64_t calls = after.calls - before.calls;
  int64_t transactions = after.transactions - before.transactions;
  EXPECT_EQ(calls, kThreads * kCallsPerThread);
  std::cout << (group_commit ? "group commit: " : "no group commit: ") << calls << " calls in "
            << transactions << " transactions, largest group " << after.largest_group << "\n";
  if (group_commit) {
    EXPECT_LT(transactions, calls / 2) << "calls hardly ever shared a commit";
    EXPECT_GT(after.largest_group, 2);
    EXPECT_LE(after.largest_group, SqliteOptions{}.max_group_calls);
  } else {
    EXPECT_EQ(transactions, calls);
  }
  std::unique_ptr<Database> fresh = Open(dir.File("c.db"), /*group_commit=*/false);
  EXPECT_EQ(QueryInt(*fresh, "SELECT COUNT(*) FROM t"), kThreads * kCallsPerThread);
}

INSTANTIATE_TEST_SUITE_P(GroupCommitOnAndOff, ConcurrentCallsTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "GroupCommit" : "NoGroupCommit";
                         });

TEST(GroupCommitOptionsTest, GroupSizeMustBePositive) {
  TempDir dir;
  SqliteOptions options;
  options.max_group_calls = 0;
  EXPECT_TRUE(absl::IsInvalidArgument(OpenSqliteDatabase(dir.File("x.db"), options).status()));
}

TEST(GroupCommitOptionsTest, GroupSizeIsBounded) {
  TempDir dir;
  SqliteOptions options;
  options.max_group_calls = 2;
  options.synchronous_full = false;
  absl::StatusOr<std::unique_ptr<Database>> db = OpenSqliteDatabase(dir.File("x.db"), options);
  ASSERT_OK(db);
  ASSERT_OK((*db)->RunInTransaction(
      [](LocalTx& tx) { return tx.Exec("CREATE TABLE t (k TEXT PRIMARY KEY)").status(); }));
  std::vector<absl::Status> results(3);
  RunInOneGroup(**db, Insert("a"),
                {[&] { results[1] = (*db)->RunInTransaction(Insert("b")); },
                 [&] { results[2] = (*db)->RunInTransaction(Insert("c")); }},
                &results[0]);
  for (const absl::Status& status : results) EXPECT_OK(status);
  EXPECT_EQ(GetSqliteCommitStats(**db).largest_group, 2);
  EXPECT_EQ(QueryInt(**db, "SELECT COUNT(*) FROM t"), 3);
}

}  // namespace
}  // namespace tcc::sdk::testing
