// Runs tcc_bench for about two seconds in tiny configurations (it starts
// its own tccd and null participants, or tccd and the points-payment
// example's services) and checks that it exits 0 and prints every figure.
// It checks that the tool works, not how fast tccd is.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"

namespace {

struct Output {
  int exit_code = -1;
  std::string text;
};

Output RunBench(const std::string& args) {
  Output output;
  std::string command = absl::StrCat(TCC_BENCH_PATH, " ", args, " 2>&1");
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return output;
  char buffer[4096];
  size_t read = 0;
  while ((read = fread(buffer, 1, sizeof(buffer), pipe)) > 0) output.text.append(buffer, read);
  int status = pclose(pipe);
  output.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return output;
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

TEST(BenchSmokeTest, OpenLoopSagaRuns) {
  Output output = RunBench("run --mode saga --rate 50 --seconds 1 --warmup 0.3 --no_ceiling");
  ASSERT_EQ(output.exit_code, 0) << output.text;
  EXPECT_NE(output.text.find("open loop 50/s"), std::string::npos) << output.text;
  EXPECT_NE(output.text.find("from the scheduled send time"), std::string::npos) << output.text;
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
