// The points-payment chaos run with three tccd instances on one PostgreSQL
// database (points_pay --store postgres --coordinators 3 --chaos): real
// processes (a private PostgreSQL server, three tccd, the three services),
// kill -9 of two coordinators and a SIGSTOP of one past its ownership lease
// while the order service round-robins its calls over all three, every
// fault switch on. The run must end with every global transaction final
// (read from PostgreSQL), a clean checker, and a takeover time measured for
// the coordinators' kills and pause. The long run is in
// examples/points-pay/README.md.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "tests/examples/run_output.h"
#include "tests/test_util/command.h"
#include "tests/test_util/temp_dir.h"

namespace pointspay::testing {
namespace {

using ::tcc::testing::CommandResult;
using ::tcc::testing::RunCommandForTest;
using ::tcc::testing::TempDir;

struct Takeovers {
  int measured = -1;
  int signals = -1;
  double max_s = -1;
  double median_s = -1;
};

// "takeovers  2 of 3 coordinator kills/pauses measured: max 1.52 s, median 1.31 s ..."
Takeovers ParseTakeovers(const std::string& output) {
  Takeovers t;
  for (absl::string_view line : absl::StrSplit(output, '\n')) {
    line = absl::StripLeadingAsciiWhitespace(line);
    if (!absl::StartsWith(line, "takeovers ")) continue;
    std::vector<std::string> w = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (w.size() < 12) break;
    (void)absl::SimpleAtoi(w[1], &t.measured);
    (void)absl::SimpleAtoi(w[3], &t.signals);
    (void)absl::SimpleAtod(w[8], &t.max_s);
    (void)absl::SimpleAtod(w[11], &t.median_s);
  }
  return t;
}

TEST(PointsPayPostgresChaosTest, ThreeCoordinatorsKilledAndPausedCheckerCleanTakeoversMeasured) {
  TempDir dir;
  // Run as root, PostgreSQL runs as the postgres user, which must reach
  // the data dir inside.
  std::filesystem::permissions(dir.path(), std::filesystem::perms::others_exec,
                               std::filesystem::perm_options::add);
  std::vector<std::string> argv = {POINTS_PAY_PATH,
                                   "--data-dir",
                                   dir.File("run"),
                                   "--keep",
                                   "--store",
                                   "postgres",
                                   "--coordinators",
                                   "3",
                                   "--chaos",
                                   "--seed",
                                   "7",
                                   "--payments",
                                   "300",
                                   "--users",
                                   "60",
                                   "--concurrency",
                                   "10",
                                   "--coordinator-kills",
                                   "2",
                                   "--coordinator-pauses",
                                   "1",
                                   "--service-kills",
                                   "0",
                                   "--ownership-lease-ms",
                                   "1000",
                                   "--gt-timeout-ms",
                                   "2000",
                                   "--max-downtime-ms",
                                   "300",
                                   "--settle-timeout-s",
                                   "40"};
  CommandResult run = RunCommandForTest(argv);
  EXPECT_EQ(run.exit_code(), 0) << run.output;
  EXPECT_TRUE(absl::StrContains(run.output, "3 tccd on PostgreSQL")) << run.output;
  EXPECT_TRUE(absl::StrContains(run.output, "CHAOS PASS seed 7")) << run.output;
  EXPECT_TRUE(RanClean(run.output));
  EXPECT_EQ(CountOnLine(run.output, "chaos kills", "tccd"), 2) << run.output;
  EXPECT_EQ(CountOnLine(run.output, "chaos pauses", "tccd"), 1) << run.output;
  Takeovers t = ParseTakeovers(run.output);
  EXPECT_EQ(t.signals, 3) << run.output;
  EXPECT_GE(t.measured, 1) << run.output;
  // Past the 1 s lease, within lease + lease/4 plus a pass and the polling.
  EXPECT_GT(t.median_s, 0.0) << run.output;
  EXPECT_LE(t.median_s, t.max_s) << run.output;
  EXPECT_LT(t.max_s, 10.0) << run.output;
}

TEST(PointsPayPostgresChaosTest, SeveralCoordinatorsNeedPostgres) {
  TempDir dir;
  CommandResult run = RunCommandForTest(
      {POINTS_PAY_PATH, "--data-dir", dir.File("run"), "--coordinators", "3", "--payments", "10"});
  EXPECT_EQ(run.exit_code(), 2) << run.output;
  EXPECT_TRUE(absl::StrContains(run.output, "--coordinators 3 needs --store postgres"))
      << run.output;
}

}  // namespace
}  // namespace pointspay::testing
