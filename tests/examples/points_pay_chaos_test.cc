// The launcher's chaos mode (launcher/chaos.h, launcher/net_chaos.h): the
// kill and network fault schedules are pure functions of the seed, and a
// short chaos run (tccd killed twice, each service killed, every fault
// switch on, duplicated requests, and network faults on the proxies between
// tccd and every service and between the order service and tccd) ends with
// every global transaction final, a clean checker, "CHAOS PASS" and exit 0.
// The long run is documented in examples/points-pay/README.md.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "examples/points-pay/launcher/chaos.h"
#include "examples/points-pay/launcher/net_chaos.h"
#include "tests/examples/run_output.h"
#include "tests/test_util/command.h"
#include "tests/test_util/temp_dir.h"

namespace pointspay::testing {
namespace {

using ::tcc::testing::CommandResult;
using ::tcc::testing::RunCommandForTest;
using ::tcc::testing::TempDir;

TEST(ChaosScheduleTest, SameSeedSameScheduleSpreadOverTheLoad) {
  ChaosOptions options{.seed = 9, .payments = 2000, .coordinator_kills = 5, .service_kills = 2};
  std::vector<ChaosEvent> a = MakeChaosSchedule(options);
  std::vector<ChaosEvent> b = MakeChaosSchedule(options);
  ASSERT_EQ(a.size(), 11u);
  EXPECT_EQ(DescribeSchedule(a), DescribeSchedule(b));
  options.seed = 10;
  EXPECT_NE(DescribeSchedule(a), DescribeSchedule(MakeChaosSchedule(options)));
  std::vector<int64_t> tccd;
  for (const ChaosEvent& e : a) {
    EXPECT_GE(e.at_payment, 100);
    EXPECT_LE(e.at_payment, 1800);
    EXPECT_LE(e.downtime, absl::Milliseconds(1000));
    if (e.process == "tccd") tccd.push_back(e.at_payment);
  }
  // One coordinator kill in each fifth of the window.
  ASSERT_EQ(tccd.size(), 5u);
  for (size_t i = 0; i < tccd.size(); ++i) {
    EXPECT_GE(tccd[i], 100 + 340 * static_cast<int64_t>(i)) << i;
    EXPECT_LE(tccd[i], 100 + 340 * static_cast<int64_t>(i + 1)) << i;
  }
}

// With several coordinators each kill picks one of them, and the pauses
// (SIGSTOP, then SIGCONT) last 1.5 to 2.5 leases: past the lease.
TEST(ChaosScheduleTest, SeveralCoordinatorsKillsAndPausesPickAmongThem) {
  ChaosOptions options{.seed = 3,
                       .payments = 2000,
                       .coordinator_kills = 12,
                       .service_kills = 0,
                       .coordinators = {"tccd1", "tccd2", "tccd3"},
                       .coordinator_pauses = 6,
                       .lease = absl::Seconds(2)};
  std::vector<ChaosEvent> a = MakeChaosSchedule(options);
  ASSERT_EQ(a.size(), 18u);
  EXPECT_EQ(DescribeSchedule(a), DescribeSchedule(MakeChaosSchedule(options)));
  std::map<std::string, int> killed;
  int pauses = 0;
  for (const ChaosEvent& e : a) {
    EXPECT_TRUE(e.process == "tccd1" || e.process == "tccd2" || e.process == "tccd3") << e.process;
    if (e.action == ChaosEvent::Action::kKill) {
      killed[e.process]++;
      EXPECT_LE(e.downtime, absl::Milliseconds(1000));
      continue;
    }
    ++pauses;
    EXPECT_GE(e.downtime, absl::Seconds(3));
    EXPECT_LE(e.downtime, absl::Seconds(5));
  }
  EXPECT_EQ(pauses, 6);
  EXPECT_EQ(killed.size(), 3u) << "12 seeded kills hit every instance";
  EXPECT_TRUE(absl::StrContains(DescribeSchedule(a), "SIGSTOP tccd")) << DescribeSchedule(a);
}

TEST(NetFaultScheduleTest, SameSeedSameScheduleEveryKindOnEveryRoute) {
  NetChaosOptions options{.seed = 3, .payments = 1000, .faults_per_route = 4, .max_fault_ms = 2000};
  std::vector<std::string> routes = {"tccd", "points_service", "paylog_service", "order_status"};
  std::vector<NetFaultEvent> a = MakeNetFaultSchedule(options, routes);
  ASSERT_EQ(a.size(), 16u);
  EXPECT_EQ(DescribeNetSchedule(a), DescribeNetSchedule(MakeNetFaultSchedule(options, routes)));
  options.seed = 4;
  EXPECT_NE(DescribeNetSchedule(a), DescribeNetSchedule(MakeNetFaultSchedule(options, routes)));
  std::map<std::string, std::set<NetFault>> kinds;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_GE(a[i].at_payment, 50);
    EXPECT_LE(a[i].at_payment, 900);
    EXPECT_LE(a[i].duration, absl::Milliseconds(2000));
    if (i > 0) EXPECT_LE(a[i - 1].at_payment, a[i].at_payment);
    kinds[a[i].route].insert(a[i].fault);
  }
  for (const std::string& route : routes) EXPECT_EQ(kinds[route].size(), 4u) << route;
}

TEST(PointsPayChaosTest, ShortChaosRunPasses) {
  TempDir dir;
  std::vector<std::string> argv = {POINTS_PAY_PATH,
                                   "--data-dir",
                                   dir.File("run"),
                                   "--keep",
                                   "--chaos",
                                   "--seed",
                                   "5",
                                   "--payments",
                                   "400",
                                   "--users",
                                   "80",
                                   "--concurrency",
                                   "10",
                                   "--refund-ratio",
                                   "0.2",
                                   "--duplicate-ratio",
                                   "0.1",
                                   "--coordinator-kills",
                                   "2",
                                   "--service-kills",
                                   "1",
                                   "--gt-timeout-ms",
                                   "2000",
                                   "--max-downtime-ms",
                                   "500",
                                   "--net-faults",
                                   "--net-faults-per-route",
                                   "4",
                                   "--max-net-fault-ms",
                                   "1500",
                                   "--settle-timeout-s",
                                   "60"};
  CommandResult run = RunCommandForTest(argv);
  EXPECT_EQ(run.exit_code(), 0) << run.output;
  EXPECT_TRUE(absl::StrContains(run.output, "seed 5\n")) << run.output;
  EXPECT_TRUE(absl::StrContains(run.output, "CHAOS PASS seed 5")) << run.output;
  EXPECT_TRUE(RanClean(run.output));
  EXPECT_TRUE(absl::StrContains(run.output, "violations          0")) << run.output;
  EXPECT_EQ(CountOnLine(run.output, "chaos kills", "tccd"), 2) << run.output;
  // Every kind of network fault, on each of the four proxies.
  EXPECT_TRUE(
      absl::StrContains(run.output, "net faults 16: blackhole=4 half-open=4 latency=4 reset=4"))
      << run.output;
  for (const char* service : {"points_service", "paylog_service", "order_service"}) {
    EXPECT_EQ(CountOnLine(run.output, "chaos kills", service), 1) << service << "\n" << run.output;
  }
}

}  // namespace
}  // namespace pointspay::testing
