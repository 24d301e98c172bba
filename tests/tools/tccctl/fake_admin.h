// A scripted AdminApi for tccctl's unit tests: records every request and
// answers with the replies (or errors) a test set up. List replies are
// served in order, so paging can be tested; the other calls repeat their
// one scripted answer. Not thread-safe (tccctl makes one call at a time).
#pragma once

#include <deque>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tools/tccctl/admin_client.h"

namespace tcc::tccctl::testing {

class FakeAdmin final : public AdminApi {
 public:
  absl::StatusOr<v1::ListTransactionsReply> List(
      const v1::ListTransactionsRequest& request) override {
    list_requests.push_back(request);
    if (list_replies.empty()) return v1::ListTransactionsReply();
    absl::StatusOr<v1::ListTransactionsReply> reply = list_replies.front();
    list_replies.pop_front();
    return reply;
  }
  absl::StatusOr<v1::TransactionDetail> Describe(const std::string& gid) override {
    described.push_back(gid);
    return detail;
  }
  absl::StatusOr<v1::RetryNowReply> RetryNow(const v1::RetryNowRequest& request) override {
    retry_requests.push_back(request);
    return retry_reply;
  }
  absl::StatusOr<v1::ResolveReply> Resolve(const v1::ResolveRequest& request) override {
    resolve_requests.push_back(request);
    return resolve_reply;
  }
  absl::StatusOr<v1::StatsReply> Stats() override {
    ++stats_calls;
    return stats_reply;
  }

  int calls() const {
    return static_cast<int>(list_requests.size() + described.size() + retry_requests.size() +
                            resolve_requests.size()) +
           stats_calls;
  }

  // Scripted answers.
  std::deque<absl::StatusOr<v1::ListTransactionsReply>> list_replies;
  absl::StatusOr<v1::TransactionDetail> detail = v1::TransactionDetail();
  absl::StatusOr<v1::RetryNowReply> retry_reply = v1::RetryNowReply();
  absl::StatusOr<v1::ResolveReply> resolve_reply = v1::ResolveReply();
  absl::StatusOr<v1::StatsReply> stats_reply = v1::StatsReply();

  // What tccctl sent.
  std::vector<v1::ListTransactionsRequest> list_requests;
  std::vector<std::string> described;
  std::vector<v1::RetryNowRequest> retry_requests;
  std::vector<v1::ResolveRequest> resolve_requests;
  int stats_calls = 0;
};

}  // namespace tcc::tccctl::testing
