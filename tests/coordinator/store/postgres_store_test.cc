// PostgreSQL-only behaviour of the store, on a private cluster: a lost
// connection, text that PostgreSQL would refuse, SQLSTATE mapping, schema
// versions. What every store must do is in store_contract_test.cc.
#include "coordinator/store/postgres_store.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "coordinator/store/postgres_status.h"
#include "coordinator/store/store_queue.h"
#include "tcc/common/blocking_counter.h"
#include "tests/coordinator/store/store_test_util.h"
#include "tests/test_util/postgres_cluster.h"
#include "tests/test_util/status_matchers.h"

namespace tcc {
namespace {

using ::tcc::testing::PostgresCluster;
using ::tcc::testing::StatusIs;

class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto schema = ::tcc::testing::NewSchemaForCurrentTest();
    ASSERT_OK(schema);
    cluster_ = schema->cluster;
    schema_ = schema->name;
    uri_ = schema->uri;
  }

  std::unique_ptr<PostgresStore> Open() {
    auto store = PostgresStore::Open({.uri = uri_});
    EXPECT_OK(store);
    return store.ok() ? std::move(*store) : nullptr;
  }

  static absl::Status CreateInBatch(PostgresStore& store, const std::string& gid) {
    if (absl::Status begun = store.BeginBatch(); !begun.ok()) return begun;
    GlobalTransaction gt;
    gt.gid = gid;
    if (absl::Status created = store.Create(gt).status(); !created.ok()) {
      store.AbortBatch();
      return created;
    }
    absl::Status committed = store.CommitBatch();
    if (!committed.ok()) store.AbortBatch();
    return committed;
  }

  PostgresCluster* cluster_ = nullptr;
  std::string uri_;
  std::string schema_;
};

// The server ends the connection (a restart, a failover, an operator): the
// batch that meets it fails UNAVAILABLE, the next one reconnects and works.
TEST_F(PostgresStoreTest, ALostConnectionFailsOneBatchUnavailableThenReconnects) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_OK(CreateInBatch(*store, "before"));
  int pid = store->BackendPid();
  ASSERT_OK(cluster_->Query(absl::StrCat("SELECT pg_terminate_backend(", pid, ")")));
  EXPECT_THAT(CreateInBatch(*store, "during"), StatusIs(absl::StatusCode::kUnavailable));
  ASSERT_OK(CreateInBatch(*store, "after"));
  EXPECT_NE(store->BackendPid(), pid) << "a new connection";
  EXPECT_TRUE(store->Find("before")->has_value());
  EXPECT_FALSE(store->Find("during")->has_value());
  EXPECT_TRUE(store->Find("after")->has_value());
}

TEST_F(PostgresStoreTest, QueriesReconnectAfterALostConnection) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  auto queries = store->OpenQueries();
  ASSERT_OK(queries);
  ASSERT_OK((*queries)->Stats());
  ASSERT_OK(cluster_->Query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = "
      "'tccd-queries'"));
  EXPECT_THAT((*queries)->Stats(), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_OK((*queries)->Stats());
}

// PostgreSQL text holds valid UTF-8 without NUL; a participant's error text
// that is neither must not make the write fail (the GT could never move on).
TEST_F(PostgresStoreTest, TextThatIsNotUtf8IsStoredWithReplacementCharacters) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_OK(store->BeginBatch());
  GlobalTransaction gt;
  gt.gid = "g1";
  gt.decision_reason = std::string("bad \xff\xfe and nul \0 end", 20);
  ASSERT_OK(store->Create(gt));
  ASSERT_OK(store->CommitBatch());
  auto found = store->Find("g1");
  ASSERT_OK(found);
  EXPECT_EQ((*found)->decision_reason, "bad \xEF\xBF\xBD\xEF\xBF\xBD and nul \xEF\xBF\xBD end");
}

TEST_F(PostgresStoreTest, MigratesStepByStepAndRefusesANewerSchema) {
  {
    auto store = Open();
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(*store->SchemaVersion(), PostgresStore::LatestSchemaVersion());
  }
  { ASSERT_NE(Open(), nullptr) << "opening a migrated database again changes nothing"; }
  const std::string& schema = schema_;
  ASSERT_OK(cluster_->Query(absl::StrCat("INSERT INTO ", schema, ".schema_version VALUES (999)")));
  EXPECT_THAT(PostgresStore::Open({.uri = uri_}),
              StatusIs(absl::StatusCode::kFailedPrecondition, "schema version 999"));
}

// Schema version 4 moved retention's index from updated_ms to finished_ms:
// a GT finished before the migration, or by an older tccd after it, is
// found by its last write's time.
TEST_F(PostgresStoreTest, MigrationFourKeepsTheFinishedTimeOfEarlierGts) {
  {
    auto at_three = PostgresStore::Open({.uri = uri_, .migrate_to_version = 3});
    ASSERT_OK(at_three);
  }
  const std::string& schema = schema_;
  ASSERT_OK(cluster_->Query(absl::StrCat(
      "INSERT INTO ", schema,
      ".global_transactions (gid, mode, state, finished, created_ms, updated_ms, timeout_ms, "
      "deadline_ms, status_endpoint, stuck, decision_reason) VALUES "
      "('old-done', 0, ",
      static_cast<int>(TxState::kCommitted), ", true, 100, 2000, 0, 0, '', false, ''), ",
      "('old-open', 0, ", static_cast<int>(TxState::kTrying),
      ", false, 100, 500, 0, 0, '', false, '')")));
  auto store = Open();
  ASSERT_NE(store, nullptr);
  // A tccd from before version 4, still running beside this one, finishes
  // a GT without finished_ms (it stays 0).
  ASSERT_OK(cluster_->Query(absl::StrCat(
      "UPDATE ", schema, ".global_transactions SET finished = true, state = ",
      static_cast<int>(TxState::kCommitted), ", updated_ms = 3000 WHERE gid = 'old-open'")));
  auto queries = store->OpenQueries();
  ASSERT_OK(queries);
  auto stats = (*queries)->Stats();
  ASSERT_OK(stats);
  EXPECT_EQ(stats->oldest_finished_updated_ms, 2000);
  auto none = store->DeleteFinishedBefore(2000, 10);
  ASSERT_OK(none);
  EXPECT_EQ(*none, 0u) << "finished at 2000 and 3000, not before";
  auto deleted = store->DeleteFinishedBefore(2001, 10);
  ASSERT_OK(deleted);
  EXPECT_EQ(*deleted, 1u);
  EXPECT_OK(store->Find("old-open"));
  EXPECT_TRUE(store->Find("old-open")->has_value()) << "finished at 3000: kept until then";
  auto later = store->DeleteFinishedBefore(3001, 10);
  ASSERT_OK(later);
  EXPECT_EQ(*later, 1u);
}

// A write that leaves a GT unfinished changes no indexed column, so
// PostgreSQL writes it as a heap-only tuple (no new index entries): the
// writes every GT makes between Begin and its outcome stay cheap.
TEST_F(PostgresStoreTest, WritesThatLeaveAGtUnfinishedAreHeapOnly) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  GlobalTransaction gt = ::tcc::testing::SampleTransaction("g1");
  ASSERT_OK(::tcc::testing::InBatch(*store, [&] { return store->Create(gt).status(); }));
  for (TxState state : {TxState::kTrying, TxState::kCommitting, TxState::kCommitting}) {
    gt.state = state;
    gt.updated_ms += 10;
    gt.branches[0].attempts += 1;
    TransactionUpdate update{.header = &gt, .changed_branches = {&gt.branches[0]}};
    ASSERT_OK(::tcc::testing::InBatch(*store, [&] { return store->Update(update); }));
  }
  gt.state = TxState::kCommitted;
  gt.updated_ms += 10;
  TransactionUpdate final_write{.header = &gt};
  ASSERT_OK(::tcc::testing::InBatch(*store, [&] { return store->Update(final_write); }));
  // A backend publishes its table counters when it exits.
  store.reset();
  const std::string sql = absl::StrCat(
      "SELECT n_tup_upd || ' ' || n_tup_hot_upd FROM pg_stat_user_tables WHERE schemaname = '",
      schema_, "' AND relname = 'global_transactions'");
  std::string counts;
  for (int i = 0; i < 100 && counts != "4 3"; ++i) {
    auto read = cluster_->Query(sql);
    ASSERT_OK(read);
    counts = *read;
    if (counts != "4 3") absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_EQ(counts, "4 3") << "updates, of them heap-only: the three unfinished ones";
}

// Each operation's savepoint is a subtransaction, and a backend caches the
// ids of 64: the queue keeps PostgreSQL's batches below that.
TEST_F(PostgresStoreTest, BatchesStayBelowTheSubtransactionsABackendCaches) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_LT(store->MaxOperationsPerBatch(), 64u);
  ::tcc::testing::WriterHold hold;  // Before the queue: it outlives the writer.
  std::vector<absl::Status> results(130);
  tcc::BlockingCounter done(130);
  StoreQueue queue(std::move(store));
  // The first batch holds the writer until all 130 wait behind it.
  ASSERT_OK(hold.Hold(queue));
  for (int i = 0; i < 130; ++i) {
    ASSERT_OK(queue.Submit(
        [i](TransactionStore& store) {
          return store.Create(::tcc::testing::SampleTransaction(absl::StrCat("g", i))).status();
        },
        [&, i](absl::Status status) {
          results[i] = status;
          done.DecrementCount();
        }));
  }
  hold.Release();
  done.Wait();
  for (const absl::Status& result : results) EXPECT_OK(result);
  StoreQueue::Stats stats = queue.stats();
  EXPECT_EQ(stats.operations, 131u);
  EXPECT_EQ(stats.batches, 4u) << "the holding one, then 130 operations at most 60 at a time";
}

TEST_F(PostgresStoreTest, ReportsDamagedRowsAsDataLoss) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_OK(CreateInBatch(*store, "g1"));
  const std::string& schema = schema_;
  ASSERT_OK(cluster_->Query(
      absl::StrCat("UPDATE ", schema, ".global_transactions SET state = 42 WHERE gid = 'g1'")));
  EXPECT_THAT(store->Find("g1"), StatusIs(absl::StatusCode::kDataLoss, "unknown state 42"));
}

// Deferred statements go with the next Query, in its round trip: their
// effects are there, a failing one is the answer (and the Query's own
// statement does not run), and Exec refuses while any wait.
TEST_F(PostgresStoreTest, DeferredStatementsRideWithTheNextQuery) {
  auto conn = pg::Connection::Open(uri_, "deferred-test");
  ASSERT_OK(conn);
  ASSERT_OK(conn->Exec("BEGIN").status());
  conn->Defer("SAVEPOINT first");
  conn->Defer("SET LOCAL application_name = 'deferred-ran'");
  auto name =
      conn->Query("SELECT current_setting('application_name') || $1", pg::Params().Text("!"));
  ASSERT_OK(name);
  EXPECT_EQ(name->Text(0, 0), "deferred-ran!");
  EXPECT_FALSE(conn->HasDeferred());
  EXPECT_FALSE(conn->DeferredFailed());
  ASSERT_OK(conn->Exec("RELEASE SAVEPOINT first").status()) << "the deferred SAVEPOINT ran";

  conn->Defer("RELEASE SAVEPOINT no_such_savepoint");
  auto refused = conn->Query("SELECT $1::int", pg::Params().Int(1));
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("no_such_savepoint"), std::string::npos)
      << refused.status();
  EXPECT_TRUE(conn->DeferredFailed());
  EXPECT_TRUE(conn->InFailedTransaction());
  ASSERT_OK(conn->Exec("ROLLBACK").status());

  conn->Defer("SAVEPOINT waiting");
  EXPECT_THAT(conn->Exec("SELECT 1"), StatusIs(absl::StatusCode::kFailedPrecondition));
  conn->DropDeferred();
  EXPECT_OK(conn->Exec("SELECT 1").status());
}

// libpq gives no SQLSTATE for a failed connection: UNAVAILABLE, with the
// server's reason in the message.
TEST_F(PostgresStoreTest, AFailedConnectionIsUnavailableAndSaysWhy) {
  EXPECT_THAT(PostgresStore::Open({.uri = "postgresql://tcc@127.0.0.1:1/tcc_test"}),
              StatusIs(absl::StatusCode::kUnavailable, "cannot connect"));
  EXPECT_THAT(PostgresStore::Open({.uri = absl::StrCat("postgresql://tcc@127.0.0.1:",
                                                       cluster_->port(), "/no_such_database")}),
              StatusIs(absl::StatusCode::kUnavailable, "no_such_database"));
}

TEST(PostgresStatus, MapsSqlstatesToCodesThatSayWhetherToRetry) {
  using Code = absl::StatusCode;
  EXPECT_EQ(PostgresStatusCode("", /*connection_lost=*/true), Code::kUnavailable);
  EXPECT_EQ(PostgresStatusCode("08006", false), Code::kUnavailable);
  EXPECT_EQ(PostgresStatusCode("57P01", false), Code::kUnavailable);
  EXPECT_EQ(PostgresStatusCode("25006", false), Code::kUnavailable) << "a standby";
  EXPECT_EQ(PostgresStatusCode("40001", false), Code::kAborted);
  EXPECT_EQ(PostgresStatusCode("40P01", false), Code::kAborted);
  EXPECT_EQ(PostgresStatusCode("23505", false), Code::kAlreadyExists);
  EXPECT_EQ(PostgresStatusCode("23502", false), Code::kFailedPrecondition);
  EXPECT_EQ(PostgresStatusCode("53100", false), Code::kResourceExhausted);
  EXPECT_EQ(PostgresStatusCode("XX001", false), Code::kDataLoss);
  EXPECT_EQ(PostgresStatusCode("22021", false), Code::kInvalidArgument);
  EXPECT_EQ(PostgresStatusCode("28P01", false), Code::kFailedPrecondition);
  EXPECT_EQ(PostgresStatusCode("57014", false), Code::kCancelled);
  EXPECT_EQ(PostgresStatusCode("42601", false), Code::kInternal);
  EXPECT_TRUE(PostgresNeedsReconnect("25006", false));
  EXPECT_FALSE(PostgresNeedsReconnect("23505", false));
}

}  // namespace
}  // namespace tcc
