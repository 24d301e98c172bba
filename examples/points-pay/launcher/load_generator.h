// The launcher's load: `payments` orders paid by `concurrency` client
// threads, each payment optionally followed by a refund and optionally sent
// twice at once with the same request id (a duplicate, scenario S5).
//
// Per payment, the client (see order_client.h) retries transport errors with
// the same request id; an OUTCOME_ABORTED reply (the GT rolled back for a
// technical reason) is retried with a NEW request id, as a user pressing
// "pay" again would. Request ids are "<order_no>.p<attempt>" (payments) and
// "<order_no>.r<attempt>" (refunds), so both halves of a duplicate use the
// same ones.
//
// Thread-safety: Start once; stats() and done() from any thread while it
// runs; Join from the thread that called Start.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "examples/points-pay/cluster/seed.h"
#include "examples/points-pay/launcher/order_client.h"
#include "tcc/common/mutex.h"

namespace pointspay {

struct LoadOptions {
  int payments = 1000;
  int concurrency = 20;
  double refund_ratio = 0.1;
  double duplicate_ratio = 0.05;
  uint64_t seed = 1;
  // Fresh request ids per order after OUTCOME_ABORTED replies.
  int max_fresh_attempts = 10;
};

struct LoadStats {
  std::atomic<int64_t> payments_done{0};  // payments with a final answer or error
  std::atomic<int64_t> paid{0};
  std::atomic<int64_t> refused{0};
  std::atomic<int64_t> aborted{0};  // ABORTED replies (then retried with a new id)
  std::atomic<int64_t> refunds_requested{0};
  std::atomic<int64_t> refunded{0};
  std::atomic<int64_t> refunds_refused{0};
  std::atomic<int64_t> duplicates_sent{0};
  std::atomic<int64_t> duplicates_absorbed{0};  // both got the same answer
  std::atomic<int64_t> replayed{0};             // replies marked replayed
  std::atomic<int64_t> retries{0};              // same-id retries after errors
  std::atomic<int64_t> errors{0};               // no final answer at all
};

class LoadGenerator {
 public:
  // `client` and `orders` must outlive the generator.
  LoadGenerator(OrderClient& client, const std::vector<SeededOrder>& orders, LoadOptions options);
  ~LoadGenerator();

  void Start();
  bool done() const { return finished_workers_.load() == options_.concurrency; }
  void Join();

  const LoadStats& stats() const { return stats_; }
  // The first few errors, for the summary.
  std::vector<std::string> error_samples() const;

 private:
  void Worker(int index);
  // True when the order ended up paid.
  bool PayOrder(const SeededOrder& order, bool duplicate);
  void RefundOrder(const SeededOrder& order);
  // Sends the call once, or twice at once when `duplicate`; returns the
  // answer, counting duplicate agreement.
  CallResult Send(bool refund, const SeededOrder& order, const std::string& request_id,
                  bool duplicate);
  void Account(const CallResult& r);
  void RecordError(const std::string& error);

  OrderClient& client_;
  const std::vector<SeededOrder>& orders_;
  const LoadOptions options_;
  LoadStats stats_;
  std::atomic<int> next_{0};
  std::atomic<int> finished_workers_{0};
  std::vector<std::thread> threads_;
  mutable tcc::Mutex mu_;
  std::vector<std::string> errors_ ABSL_GUARDED_BY(mu_);
};

}  // namespace pointspay
