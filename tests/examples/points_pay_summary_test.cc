// The launcher's summary (launcher/summary.h) word by word: each number has
// its own name. Payments that succeeded are not the checker's PAID orders
// (refunds move orders on to REFUNDED); injected latency is not a fault;
// restarts after crashes are not chaos kills; the rate counts payments and
// refunds, not transactions.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "examples/points-pay/launcher/summary.h"

namespace pointspay {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

class SummaryTest : public ::testing::Test {
 protected:
  SummaryTest() {
    stats_.payments_done = 200;
    stats_.paid = 170;
    stats_.refused = 30;
    stats_.refunds_requested = 40;
    stats_.refunded = 36;
    stats_.refunds_refused = 4;
    summary_.payments = 200;
    summary_.concurrency = 10;
    summary_.faults = true;
    summary_.stats = &stats_;
    summary_.load_time = absl::Seconds(2);
    summary_.fault_counts = {
        {"order_service", {{"crash_after_confirm", 2}, {"fail_try", 3}, {"latency", 180}}},
        {"points_service", {{"latency", 150}}}};
    summary_.restarts_after_crash = {{"order_service", 2}, {"tccd", 0}};
    CheckReport check;
    check.orders = 220;
    check.paid = 134;
    check.refunded = 36;
    check.unpaid = 50;
    check.transactions = 240;
    check.committed = 206;
    check.rolled_back = 34;
    summary_.check = check;
  }

  std::string Print() const {
    std::ostringstream out;
    PrintSummary(summary_, out);
    return out.str();
  }

  LoadStats stats_;
  RunSummary summary_;
};

TEST_F(SummaryTest, PaymentsThatSucceededAreNotTheOrdersPaidNow) {
  std::string text = Print();
  EXPECT_THAT(text,
              HasSubstr("  payments succeeded  170 (orders paid; 36 of them refunded since)\n"));
  EXPECT_THAT(text, HasSubstr("  payments refused    30 (not enough points or already paid)\n"));
  EXPECT_THAT(text, HasSubstr("  refunds succeeded   36 of 40 requested (4 refused)\n"));
  EXPECT_THAT(text, HasSubstr("checker: orders now 134 PAID, 36 REFUNDED, 50 UNPAID (220 in all); "
                              "240 transactions (206 committed, 34 rolled back): CLEAN"));
  EXPECT_THAT(text, Not(HasSubstr(" paid  ")));
  EXPECT_THAT(text, Not(HasSubstr(" paid,")));
}

TEST_F(SummaryTest, LatencyIsCountedApartFromFaults) {
  std::string text = Print();
  EXPECT_THAT(text, HasSubstr("  faults fired        order_service   crash_after_confirm=2 "
                              "fail_try=3\n"));
  EXPECT_THAT(text, HasSubstr("  latency injected    order_service   180 calls delayed\n"
                              "  latency injected    points_service  150 calls delayed\n"));
  EXPECT_THAT(text, Not(HasSubstr("latency=")));
  EXPECT_THAT(text, Not(HasSubstr("faults fired        points_service")));
}

TEST_F(SummaryTest, RestartsAfterCrashesAreNotChaosKills) {
  summary_.chaos = true;
  summary_.kills = {{"tccd", 3}, {"order_service", 1}};
  std::string text = Print();
  EXPECT_THAT(text,
              HasSubstr("  restarts after crash 2 (2 crash faults fired): order_service=2\n"));
  EXPECT_THAT(text, HasSubstr("  chaos kills         4 kill -9, each restarted: order_service=1 "
                              "tccd=3\n"));
  EXPECT_THAT(text, HasSubstr("  faults by kind      5 fired: crash_after_confirm=2 fail_try=3\n"));
}

TEST_F(SummaryTest, TheRateCountsPaymentsAndRefunds) {
  std::string text = Print();
  EXPECT_THAT(text,
              AllOf(HasSubstr("  rate                120 payments+refunds/s (200 payments + 40 "
                              "refunds finished during the load"),
                    Not(HasSubstr("tx/s"))));
}

TEST_F(SummaryTest, FaultsOffSaysSo) {
  summary_.faults = false;
  summary_.fault_counts.clear();
  EXPECT_THAT(Print(), AllOf(HasSubstr("  faults              off\n"),
                             Not(HasSubstr("restarts after crash"))));
}

}  // namespace
}  // namespace pointspay
