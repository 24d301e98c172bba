// Runs tcc_bench for about two seconds in tiny configurations (it starts
// its own tccd and null participants, or tccd and the points-payment
// example's services, or a private PostgreSQL cluster and tccds on it) and
// checks that it exits 0 and prints every figure.
// It checks that the tool works, not how fast tccd is.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "tests/test_util/command.h"

namespace {

struct Output {
  int exit_code = -1;
  std::string text;  // stdout and stderr
};

Output RunBench(const std::string& args) {
  std::vector<std::string> argv = absl::StrSplit(args, ' ', absl::SkipEmpty());
  argv.insert(argv.begin(), TCC_BENCH_PATH);
  // Below ctest's timeout, so that a hung run still shows what it printed.
  ::tcc::testing::CommandResult run =
      ::tcc::testing::RunCommandForTest(argv, {.timeout = absl::Seconds(60)});
  return {.exit_code = run.exit_code(), .text = run.output};
}

TEST(BenchSmokeTest, TccRunPrintsEveryFigure) {
  Output output =
      RunBench("run --branches 3 --concurrency 4 --seconds 1 --warmup 0.3 --ceiling_seconds 0.5");
  ASSERT_EQ(output.exit_code, 0) << output.text;
  for (const char* figure :
       {"ceiling:", "throughput:", "latency_ms: p50", "tccd_cpu:", "tccd_peak_rss:",
        "ratio: GT/s / (ceiling RPC/s / RPCs per GT)", "/ 9) =", "csv: tcc,3,4,", "[tcc "}) {
    EXPECT_NE(output.text.find(figure), std::string::npos) << figure << "\n" << output.text;
  }
  EXPECT_EQ(output.text.find(" 0 GTs in"), std::string::npos) << output.text;
}

// --tls: the same run with mutual TLS on every hop (a CA made for the run);
// the ceiling and the transactions all succeed over it.
TEST(BenchSmokeTest, TlsRunsOverMutualTls) {
  Output output = RunBench(
      "run --tls --branches 2 --concurrency 4 --seconds 1 --warmup 0.3 --ceiling_seconds 0.5");
  ASSERT_EQ(output.exit_code, 0) << output.text;
  EXPECT_NE(output.text.find("mutual TLS on every hop"), std::string::npos) << output.text;
  // The ceiling's echo calls, then the transactions: none failed.
  EXPECT_NE(output.text.find(" 0 errors)"), std::string::npos) << output.text;
  EXPECT_NE(output.text.find(" 0 errors, 0 dropped)"), std::string::npos) << output.text;
  EXPECT_EQ(output.text.find(" 0 GTs in"), std::string::npos) << output.text;
}

TEST(BenchSmokeTest, OpenLoopSagaRuns) {
  Output output = RunBench("run --mode saga --rate 50 --seconds 1 --warmup 0.3 --no_ceiling");
  ASSERT_EQ(output.exit_code, 0) << output.text;
  EXPECT_NE(output.text.find("open loop 50/s"), std::string::npos) << output.text;
  EXPECT_NE(output.text.find("from the scheduled send time"), std::string::npos) << output.text;
}

// The number after `label` in `text` (e.g. "pg_commits: 4.250 per GT"), or
// -1 when the line is missing.
double FigureAfter(const std::string& text, const std::string& label) {
  size_t at = text.find(label);
  if (at == std::string::npos) return -1;
  return std::strtod(text.c_str() + at + label.size(), nullptr);
}

// --store postgres: a private cluster, three tccd instances sharing it, the
// GTs spread over all three, and the database's figures measured: its
// commit ceiling, commits and WAL flushes per GT, and the ratio.
TEST(BenchSmokeTest, PostgresRunSpreadsOverInstancesAndPrintsTheDatabaseFigures) {
  Output output = RunBench(
      "run --store postgres --instances 3 --branches 3 --concurrency 6 --seconds 1 --warmup 0.3 "
      "--ceiling_seconds 0.5");
  ASSERT_EQ(output.exit_code, 0) << output.text;
  for (const char* figure :
       {"store=postgres (3 instance(s) on one private cluster", "throughput:", "latency_ms: p50",
        "tccd_cpu:", "3 instances)", "other_cpu: postgres",
        "pg_wal_flushes:", "pg_ratio: GT/s / (PG commits/s / PG commits per GT) = ",
        "pg_row_ratio: GT/s / (PG commits/s / rows per GT) = ", "pg_csv: tcc,3,6,3,"}) {
    EXPECT_NE(output.text.find(figure), std::string::npos) << figure << "\n" << output.text;
  }
  EXPECT_GT(FigureAfter(output.text, "pg_ceiling: "), 0) << output.text;
  EXPECT_GT(FigureAfter(output.text, "pg_commits: "), 0) << output.text;
  EXPECT_GT(FigureAfter(output.text, "pg_ratio: GT/s / (PG commits/s / PG commits per GT) = "), 0)
      << output.text;
  // A 3-branch GT writes its header, branches and events: many rows.
  EXPECT_GT(FigureAfter(output.text, "pg_rows: "), 5) << output.text;
  // Read from the instances' /metrics: Begin, the branches, the Try
  // results, the decision and the outcome (more when a Confirm's success
  // cannot wait for the outcome's write).
  double operations = FigureAfter(output.text, "pg_store_ops: ");
  EXPECT_GE(operations, 5) << output.text;
  EXPECT_LE(operations, 9) << output.text;
  EXPECT_GT(
      FigureAfter(output.text, "pg_op_ratio: GT/s / (PG commits/s / store operations per GT) = "),
      0)
      << output.text;
  // Every instance owns GTs: three counts, none of them zero.
  size_t spread = output.text.find("pg_gts_per_instance: ");
  ASSERT_NE(spread, std::string::npos) << output.text;
  std::vector<std::string> counts = absl::StrSplit(
      output.text.substr(spread + 21, output.text.find(" (", spread) - spread - 21), ' ');
  ASSERT_EQ(counts.size(), 3u) << output.text;
  for (const std::string& count : counts) EXPECT_GT(std::stoi(count), 0) << output.text;
  EXPECT_EQ(output.text.find(" 0 GTs in"), std::string::npos) << output.text;
}

TEST(BenchSmokeTest, PostgresSagaRuns) {
  Output output = RunBench(
      "run --store postgres --mode saga --branches 2 --concurrency 4 --seconds 1 --warmup 0.3 "
      "--no_ceiling");
  ASSERT_EQ(output.exit_code, 0) << output.text;
  EXPECT_NE(output.text.find(" 0 errors, 0 dropped)"), std::string::npos) << output.text;
  EXPECT_NE(output.text.find("pg_csv: saga,2,4,1,"), std::string::npos) << output.text;
  EXPECT_GT(FigureAfter(output.text, "pg_commits: "), 0) << output.text;
}

TEST(BenchSmokeTest, InstancesNeedPostgres) {
  Output output = RunBench("run --instances 2 --seconds 1");
  EXPECT_EQ(output.exit_code, 1) << output.text;
  EXPECT_NE(output.text.find("--instances > 1 needs --store postgres"), std::string::npos)
      << output.text;
}

// The soak: a line per interval with every figure, the plots, and (too
// short to judge here) no verdict failure.
TEST(BenchSmokeTest, SoakPrintsIntervalsAndPlots) {
  Output output = RunBench("soak --minutes 0.1 --interval 3 --retention_s 2 --rate 50");
  ASSERT_EQ(output.exit_code, 0) << output.text;
  for (const char* figure :
       {"--retention_s=2", "soak: t=", "GT/s  p99", "store ", "(free ", "rows ", "tccd_rss ",
        "throughput (GT/s)\n", "store on disk (MB)\n", "tccd RSS (MB)\n", "too short to judge"}) {
    EXPECT_NE(output.text.find(figure), std::string::npos) << figure << "\n" << output.text;
  }
}

// One round of SIGTERM with idle connections and under load; tccd exits
// cleanly both times and keeps every acknowledged commit.
TEST(BenchSmokeTest, ShutdownTimesBothStopsAndKeepsWhatWasAcknowledged) {
  Output output = RunBench("shutdown --rounds 1 --idle 2 --concurrency 4");
  ASSERT_EQ(output.exit_code, 0) << output.text;
  for (const char* figure : {"round 1: exit after SIGTERM ", "with 2 idle and 1 silent connections",
                             "under load (4 in flight)", "shutdown with idle connections: median ",
                             "shutdown under load: median ", "acknowledged commits kept: all"}) {
    EXPECT_NE(output.text.find(figure), std::string::npos) << figure << "\n" << output.text;
  }
  EXPECT_EQ(output.text.find(" 0 commits acknowledged"), std::string::npos) << output.text;
}

// The full points-payment flow: tccd and the example's three services as
// real processes. It must pay, report every process, and end with a clean
// checker; a PASS needs every payment done.
TEST(BenchSmokeTest, PointsPayRunsAndTheCheckerIsClean) {
  if (!TCC_BENCH_POINTS_PAY) GTEST_SKIP() << "built without the points-payment example";
  Output output = RunBench("run --mode points-pay --concurrency 8 --seconds 1.5 --warmup 0.3");
  ASSERT_EQ(output.exit_code, 0) << output.text;
  for (const char* figure :
       {"throughput:", "GT/s = payments/s", "latency_ms: p50", "cpu: tccd", "cpu: points_service",
        "cpu: paylog_service", "cpu: order_service", "cpu: total", "ratio: skipped",
        "csv: points-pay,2,8,", "[points-pay ", "0 refused, 0 aborted, 0 failed",
        "CLEAN, every invariant holds", "points-pay: PASS"}) {
    EXPECT_NE(output.text.find(figure), std::string::npos) << figure << "\n" << output.text;
  }
  EXPECT_EQ(output.text.find(" 0 payments in"), std::string::npos) << output.text;
}

}  // namespace
