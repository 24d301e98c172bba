#include "examples/points-pay/launcher/load_generator.h"

#include <random>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace pointspay {
namespace {

constexpr size_t kMaxErrorSamples = 10;
constexpr absl::Duration kPauseBeforeFreshAttempt = absl::Milliseconds(100);

bool SameAnswer(const CallResult& a, const CallResult& b) {
  return a.ok && b.ok && a.reply.outcome() == b.reply.outcome() && a.reply.gid() == b.reply.gid();
}

}  // namespace

LoadGenerator::LoadGenerator(OrderClient& client, const std::vector<SeededOrder>& orders,
                             LoadOptions options)
    : client_(client), orders_(orders), options_(options) {}

LoadGenerator::~LoadGenerator() { Join(); }

void LoadGenerator::Start() {
  for (int i = 0; i < options_.concurrency; ++i) threads_.emplace_back([this, i] { Worker(i); });
}

void LoadGenerator::Join() {
  for (std::thread& t : threads_) t.join();
  threads_.clear();
}

std::vector<std::string> LoadGenerator::error_samples() const {
  tcc::MutexLock lock(&mu_);
  return errors_;
}

void LoadGenerator::RecordError(const std::string& error) {
  stats_.errors++;
  tcc::MutexLock lock(&mu_);
  if (errors_.size() < kMaxErrorSamples) errors_.push_back(error);
}

void LoadGenerator::Worker(int index) {
  std::mt19937_64 rng(options_.seed * 7919 + static_cast<uint64_t>(index));
  std::bernoulli_distribution refund(options_.refund_ratio);
  std::bernoulli_distribution duplicate(options_.duplicate_ratio);
  for (int i = next_++; i < options_.payments && i < static_cast<int>(orders_.size());
       i = next_++) {
    const SeededOrder& order = orders_[static_cast<size_t>(i)];
    bool paid = PayOrder(order, duplicate(rng));
    stats_.payments_done++;
    if (paid && refund(rng)) RefundOrder(order);
  }
  finished_workers_++;
}

void LoadGenerator::Account(const CallResult& r) {
  stats_.retries += r.retries;
  if (r.ok && r.reply.replayed()) stats_.replayed++;
}

CallResult LoadGenerator::Send(bool refund, const SeededOrder& order, const std::string& request_id,
                               bool duplicate) {
  auto call = [&] {
    return refund ? client_.Refund(order.order_no, request_id)
                  : client_.Pay(order.order_no, request_id);
  };
  if (!duplicate) {
    CallResult r = call();
    Account(r);
    return r;
  }
  // The same request twice, concurrently: one effect. The answers must agree
  // on that effect (done or not); "aborted" next to "refused" is not a
  // contradiction: under an injected Try fault one copy can see the attempt
  // abort while the other already sees the participant's refusal, and both
  // say the order was not paid (the checker verifies the effect).
  CallResult twin;
  std::thread second([&] { twin = call(); });
  CallResult first = call();
  second.join();
  Account(first);
  Account(twin);
  stats_.duplicates_sent++;
  bool first_done = first.reply.outcome() == pointspay::v1::OUTCOME_DONE;
  bool twin_done = twin.reply.outcome() == pointspay::v1::OUTCOME_DONE;
  if (SameAnswer(first, twin) || (first.ok && twin.ok && !first_done && !twin_done)) {
    stats_.duplicates_absorbed++;
  } else if (first.ok && twin.ok) {
    RecordError(absl::StrCat("duplicate ", request_id, " got two different answers: ",
                             first.reply.ShortDebugString(), " / ", twin.reply.ShortDebugString()));
  }
  return first.ok ? first : twin;
}

bool LoadGenerator::PayOrder(const SeededOrder& order, bool duplicate) {
  for (int attempt = 1; attempt <= options_.max_fresh_attempts; ++attempt) {
    CallResult r = Send(false, order, absl::StrCat(order.order_no, ".p", attempt), duplicate);
    if (!r.ok) {
      RecordError(r.last_error);
      return false;
    }
    switch (r.reply.outcome()) {
      case pointspay::v1::OUTCOME_DONE:
        stats_.paid++;
        return true;
      case pointspay::v1::OUTCOME_REFUSED:
        stats_.refused++;
        return false;
      default:
        stats_.aborted++;
        absl::SleepFor(kPauseBeforeFreshAttempt);
    }
  }
  RecordError(absl::StrCat("payment of ", order.order_no, " aborted ", options_.max_fresh_attempts,
                           " times"));
  return false;
}

void LoadGenerator::RefundOrder(const SeededOrder& order) {
  stats_.refunds_requested++;
  for (int attempt = 1; attempt <= options_.max_fresh_attempts; ++attempt) {
    CallResult r = Send(true, order, absl::StrCat(order.order_no, ".r", attempt), false);
    if (!r.ok) {
      RecordError(r.last_error);
      return;
    }
    switch (r.reply.outcome()) {
      case pointspay::v1::OUTCOME_DONE:
        stats_.refunded++;
        return;
      case pointspay::v1::OUTCOME_REFUSED:
        stats_.refunds_refused++;
        return;
      default:
        stats_.aborted++;
        absl::SleepFor(kPauseBeforeFreshAttempt);
    }
  }
  RecordError(absl::StrCat("refund of ", order.order_no, " aborted ", options_.max_fresh_attempts,
                           " times"));
}

}  // namespace pointspay
