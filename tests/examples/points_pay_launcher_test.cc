// The points-payment launcher end to end, as a user runs it: tccd and the
// three services as real processes, a payment load with refunds and
// duplicated requests, then the invariant checker. With faults off and with
// every fault switch on (each must fire at least once), the run must end
// with every global transaction final, a clean checker and exit code 0.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tests/examples/run_output.h"
#include "tests/test_util/command.h"
#include "tests/test_util/temp_dir.h"

namespace pointspay::testing {
namespace {

using ::tcc::testing::CommandResult;
using ::tcc::testing::RunCommandForTest;
using ::tcc::testing::TempDir;

// How often `fault` fired in `service`: from the summary line "latency
// injected <service> N calls delayed" for latency, else from "faults fired
// <service> a=1 b=2".
int FaultCount(const std::string& output, const std::string& service, const std::string& fault) {
  for (absl::string_view line : absl::StrSplit(output, '\n')) {
    if (fault == "latency" && absl::StrContains(line, "latency injected") &&
        absl::StrContains(line, service)) {
      std::vector<absl::string_view> words = absl::StrSplit(line, ' ', absl::SkipEmpty());
      int count = 0;
      return words.size() > 3 && absl::SimpleAtoi(words[3], &count) ? count : 0;
    }
    if (!absl::StrContains(line, "faults fired") || !absl::StrContains(line, service)) continue;
    for (absl::string_view word : absl::StrSplit(line, ' ', absl::SkipEmpty())) {
      std::pair<std::string, std::string> kv = absl::StrSplit(word, absl::MaxSplits('=', 1));
      int count = 0;
      if (kv.first == fault && absl::SimpleAtoi(kv.second, &count)) return count;
    }
  }
  return 0;
}

CommandResult RunLauncher(const TempDir& dir, std::vector<std::string> flags) {
  std::vector<std::string> argv = {POINTS_PAY_PATH, "--data-dir", dir.File("run"), "--keep"};
  argv.insert(argv.end(), flags.begin(), flags.end());
  return RunCommandForTest(argv);
}

// --tls: the same flow with mutual TLS on every hop (launcher -> order
// service -> tccd -> services and back to the status endpoint), with a CA
// and certificates made for the run; tccd refuses to call anyone in
// plaintext (--participant_tls_required), so a clean run proves every hop.
TEST(PointsPayLauncherTest, TlsOnEveryHopEveryTransactionFinalAndCheckerClean) {
  TempDir dir;
  CommandResult run =
      RunLauncher(dir, {"--tls", "--payments", "60", "--users", "20", "--concurrency", "6",
                        "--refund-ratio", "0.2", "--seed", "9"});
  EXPECT_EQ(run.exit_code(), 0) << run.output;
  EXPECT_TRUE(absl::StrContains(run.output, "mutual TLS on every hop")) << run.output;
  EXPECT_TRUE(absl::StrContains(run.output, "CLEAN, every invariant holds")) << run.output;
  EXPECT_TRUE(absl::StrContains(run.output, "errors              0")) << run.output;
  EXPECT_TRUE(std::filesystem::exists(dir.File("run/pki/ca.pem")));
}

TEST(PointsPayLauncherTest, FaultsOffEveryTransactionFinalAndCheckerClean) {
  TempDir dir;
  CommandResult run =
      RunLauncher(dir, {"--payments", "200", "--users", "40", "--concurrency", "10",
                        "--refund-ratio", "0.2", "--duplicate-ratio", "0.1", "--seed", "7"});
  EXPECT_EQ(run.exit_code(), 0) << run.output;
  EXPECT_TRUE(RanClean(run.output));
  EXPECT_TRUE(absl::StrContains(run.output, "RESULT: OK")) << run.output;
  EXPECT_TRUE(absl::StrContains(run.output, "faults              off")) << run.output;
}

TEST(PointsPayLauncherTest, FaultsOnEverySwitchFiresAndCheckerStaysClean) {
  TempDir dir;
  // Probabilities high enough that, in 200 payments, every switch of every
  // service fires (expected counts >= 6 each), low enough to finish quickly.
  // The points service sees a Cancel only when another branch failed after
  // its Try succeeded (its own refusals need none): a few per run, hence
  // fail_try and fail_cancel at 0.08 and 0.5 (at 0.04 and 0.3 one CI run
  // saw no points fail_cancel at all).
  CommandResult run = RunLauncher(dir, {"--payments",
                                        "200",
                                        "--users",
                                        "40",
                                        "--concurrency",
                                        "10",
                                        "--refund-ratio",
                                        "0.2",
                                        "--duplicate-ratio",
                                        "0.1",
                                        "--seed",
                                        "11",
                                        "--gt-timeout-ms",
                                        "2000",
                                        "--faults",
                                        "--fault",
                                        "fail_try=0.08",
                                        "--fault",
                                        "fail_cancel=0.5",
                                        "--fault",
                                        "crash_after_try=0.03",
                                        "--fault",
                                        "crash_after_confirm=0.03",
                                        "--fault",
                                        "drop_reply=0.05",
                                        "--fault",
                                        "fail_confirm=0.05"});
  EXPECT_EQ(run.exit_code(), 0) << run.output;
  EXPECT_TRUE(absl::StrContains(run.output, "CLEAN, every invariant holds")) << run.output;
  EXPECT_FALSE(absl::StrContains(run.output, "NOT FINAL")) << run.output;
  std::vector<std::string> common = {"fail_try",        "fail_confirm",
                                     "crash_after_try", "crash_after_confirm",
                                     "drop_reply",      "latency"};
  for (const char* service : {"points_service", "paylog_service", "order_service"}) {
    std::vector<std::string> switches = common;
    if (std::string(service) != "order_service") switches.push_back("fail_cancel");
    for (const std::string& fault : switches) {
      EXPECT_GT(FaultCount(run.output, service, fault), 0)
          << service << " " << fault << " never fired:\n"
          << run.output;
    }
  }
  EXPECT_TRUE(absl::StrContains(run.output, "restarts after crash")) << run.output;
  EXPECT_FALSE(absl::StrContains(run.output, "latency=")) << run.output;
}

TEST(PointsPayLauncherTest, RejectsADataDirWithAPreviousRun) {
  TempDir dir;
  CommandResult first = RunLauncher(dir, {"--payments", "5", "--users", "2", "--concurrency", "1"});
  ASSERT_EQ(first.exit_code(), 0) << first.output;
  CommandResult second =
      RunLauncher(dir, {"--payments", "5", "--users", "2", "--concurrency", "1"});
  EXPECT_EQ(second.exit_code(), 2) << second.output;
  EXPECT_TRUE(absl::StrContains(second.output, "already holds a run")) << second.output;
}

}  // namespace
}  // namespace pointspay::testing
