// The --json documents: every field tools/tccctl/README.md documents.
#include "tools/tccctl/json_convert.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/tools/tccctl/samples.h"

namespace tcc::tccctl {
namespace {

using ::tcc::tccctl::testing::FailingBackQueryDetail;
using ::tcc::tccctl::testing::SampleNow;
using ::tcc::tccctl::testing::SampleNowMs;
using ::tcc::tccctl::testing::StuckDetail;
using ::tcc::tccctl::testing::StuckTransaction;

TEST(JsonConvertTest, TransactionHasEveryDocumentedField) {
  v1::Transaction sample = StuckTransaction();
  sample.set_owner("host-1-00beef");  // Several instances on PostgreSQL.
  sample.set_epoch(3);
  sample.set_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  nlohmann::ordered_json gt = TransactionToJson(sample, SampleNow());
  EXPECT_EQ(gt["gid"], "pay-42");
  EXPECT_EQ(gt["state"], "COMMITTING");
  EXPECT_EQ(gt["mode"], "TCC");
  EXPECT_EQ(gt["stuck"], true);
  EXPECT_EQ(gt["created_unix_ms"], SampleNowMs() - 192000);
  EXPECT_EQ(gt["updated_unix_ms"], SampleNowMs() - 2000);
  EXPECT_EQ(gt["deadline_unix_ms"], SampleNowMs() - 162000);
  EXPECT_EQ(gt["age_ms"], 192000);
  EXPECT_EQ(gt["timeout_ms"], 30000);
  EXPECT_EQ(gt["status_endpoint"], "");
  EXPECT_EQ(gt["decision_reason"], "committed by the initiator");
  EXPECT_EQ(gt["owner"], "host-1-00beef");
  EXPECT_EQ(gt["epoch"], 3);
  EXPECT_EQ(gt["traceparent"], "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  EXPECT_EQ(gt["branches_done"], 1);
  EXPECT_EQ(gt["branches_total"], 2);
  EXPECT_EQ(gt["failing_branch"]["branch_id"], "stock");
  EXPECT_EQ(gt["failing_branch"]["target"], "127.0.0.1:9002");
  EXPECT_EQ(gt["failing_branch"]["error"], "UNAVAILABLE: failed to connect to all addresses");
  ASSERT_EQ(gt["branches"].size(), 2u);
  const nlohmann::ordered_json& stock = gt["branches"][1];
  EXPECT_EQ(stock["branch_id"], "stock");
  EXPECT_EQ(stock["target"], "127.0.0.1:9002");
  EXPECT_EQ(stock["action"], "stock.reserve");
  EXPECT_EQ(stock["state"], "TRIED");
  EXPECT_EQ(stock["attempts"], 7);
  EXPECT_EQ(stock["last_error"], "UNAVAILABLE: failed to connect to all addresses");
  EXPECT_EQ(stock["next_retry_unix_ms"], SampleNowMs() + 2000);
  EXPECT_EQ(stock["payload_size"], 12);
  EXPECT_TRUE(stock["depends_on"].is_array());
  EXPECT_TRUE(stock["depends_on"].empty());
}

TEST(JsonConvertTest, FieldsKeepTheDocumentedOrder) {
  nlohmann::ordered_json gt = TransactionToJson(StuckTransaction(), SampleNow());
  std::vector<std::string> keys;
  for (const auto& item : gt.items()) {
    keys.push_back(item.key());
  }
  EXPECT_EQ(keys, (std::vector<std::string>{"gid", "state", "mode", "stuck", "created_unix_ms",
                                            "updated_unix_ms", "deadline_unix_ms", "age_ms",
                                            "timeout_ms", "status_endpoint", "decision_reason",
                                            "owner", "epoch", "traceparent", "branches_done",
                                            "branches_total", "failing_branch", "branches"}));
}

TEST(JsonConvertTest, NoFailingBranchIsNull) {
  v1::Transaction gt = StuckTransaction();
  gt.mutable_branches(1)->clear_last_error();
  EXPECT_TRUE(TransactionToJson(gt, SampleNow())["failing_branch"].is_null());
}

TEST(JsonConvertTest, DetailHasTimelineAndStuckSince) {
  nlohmann::ordered_json detail = DetailToJson(StuckDetail(), SampleNow());
  EXPECT_EQ(detail["transaction"]["stuck_since_unix_ms"], SampleNowMs() - 60000);
  ASSERT_EQ(detail["timeline"].size(), 4u);
  EXPECT_EQ(detail["timeline"][0]["unix_ms"], SampleNowMs() - 192000);
  EXPECT_EQ(detail["timeline"][0]["actor"], "tccd");
  EXPECT_EQ(detail["timeline"][0]["kind"], "begin");
  EXPECT_EQ(detail["timeline"][0]["detail"], "timeout 30000ms");
}

TEST(JsonConvertTest, DetailHasTheBackQueryOrNull) {
  EXPECT_TRUE(DetailToJson(StuckDetail(), SampleNow())["back_query"].is_null());
  nlohmann::ordered_json detail = DetailToJson(FailingBackQueryDetail(), SampleNow());
  const nlohmann::ordered_json& query = detail["back_query"];
  EXPECT_EQ(query["endpoint"], "127.0.0.1:7001");
  EXPECT_EQ(query["attempts"], 4);
  EXPECT_EQ(query["failed_attempts"], 4);
  EXPECT_EQ(query["last_error"],
            "UNAVAILABLE: status endpoint 127.0.0.1:7001: gRPC 14: Connection refused");
  EXPECT_EQ(query["last_attempt_unix_ms"], SampleNowMs() - 1000);
  EXPECT_EQ(query["next_retry_unix_ms"], SampleNowMs() + 7000);
  EXPECT_EQ(detail["timeline"][1]["kind"], "back-query");
}

TEST(JsonConvertTest, ListKeepsTheNextPageToken) {
  nlohmann::ordered_json list =
      ListToJson({StuckTransaction("a"), StuckTransaction("b")}, "tok", SampleNow());
  ASSERT_EQ(list["transactions"].size(), 2u);
  EXPECT_EQ(list["transactions"][1]["gid"], "b");
  EXPECT_EQ(list["next_page_token"], "tok");
}

TEST(JsonConvertTest, Stats) {
  v1::StatsReply stats;
  (*stats.mutable_transactions_by_state())["COMMITTING"] = 3;
  stats.set_stuck(1);
  stats.set_oldest_unfinished_age_ms(192000);
  v1::TargetFailures* target = stats.add_failing_targets();
  target->set_target("127.0.0.1:9002");
  target->set_failing_branches(3);
  target->set_failed_attempts(21);
  target->set_last_error("connection refused");
  v1::TargetFailures* endpoint = stats.add_failing_targets();
  endpoint->set_target("127.0.0.1:7001");
  endpoint->set_role(v1::TARGET_ROLE_STATUS_ENDPOINT);
  endpoint->set_failing_back_queries(2);
  endpoint->set_failed_attempts(9);
  v1::CoordinatorInstance* instance = stats.add_instances();
  instance->set_instance_id("host-1-00beef");
  instance->set_address("10.0.0.1:7420");
  instance->set_heartbeat_age_ms(250);
  instance->set_live(true);
  nlohmann::ordered_json json = StatsToJson(stats);
  EXPECT_EQ(json["transactions_by_state"]["COMMITTING"], 3);
  EXPECT_EQ(json["stuck"], 1);
  EXPECT_EQ(json["oldest_unfinished_age_ms"], 192000);
  EXPECT_EQ(json["failing_targets"][0]["target"], "127.0.0.1:9002");
  EXPECT_EQ(json["failing_targets"][0]["failing_branches"], 3);
  EXPECT_EQ(json["failing_targets"][0]["failed_attempts"], 21);
  EXPECT_EQ(json["failing_targets"][0]["last_error"], "connection refused");
  EXPECT_EQ(json["failing_targets"][0]["role"], "participant");
  EXPECT_EQ(json["failing_targets"][1]["role"], "status_endpoint");
  EXPECT_EQ(json["failing_targets"][1]["failing_back_queries"], 2);
  EXPECT_EQ(json["failing_targets"][1]["failing_branches"], 0);
  EXPECT_EQ(json["instances"][0]["instance_id"], "host-1-00beef");
  EXPECT_EQ(json["instances"][0]["address"], "10.0.0.1:7420");
  EXPECT_EQ(json["instances"][0]["heartbeat_age_ms"], 250);
  EXPECT_EQ(json["instances"][0]["live"], true);
}

}  // namespace
}  // namespace tcc::tccctl
