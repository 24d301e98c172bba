#include "coordinator/transport/batching_transport.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"

namespace tcc {

BatchingTransport::BatchingTransport(ParticipantTransport* inner, BatchingOptions options)
    : inner_(inner),
      options_(options),
      clock_(options.clock != nullptr ? options.clock : &real_clock_) {}

std::string BatchingTransport::LaneKey(const BranchCall& call) {
  return absl::StrCat(static_cast<int>(call.phase), " ", call.target);
}

void BatchingTransport::Call(BranchCall call, std::function<void(CallResult)> done) {
  if (call.phase == Phase::kTry || call.wait_for_ready || options_.max_batch <= 1) {
    return inner_->Call(std::move(call), std::move(done));
  }
  std::string key = LaneKey(call);
  std::vector<Pending> next;
  bool unbatched;
  {
    tcc::MutexLock lock(&mu_);
    unbatched = UnbatchedLocked(call.target);
    if (!unbatched) {
      Lane& lane = lanes_[key];
      lane.waiting.push_back({std::move(call), std::move(done)});
      next = TakeLocked(lane);
    }
  }
  if (unbatched) return inner_->Call(std::move(call), std::move(done));
  Send(std::move(key), {std::move(next), false});
}

std::vector<BatchingTransport::Pending> BatchingTransport::TakeLocked(Lane& lane) {
  std::vector<Pending> taken;
  if (lane.waiting.empty() || lane.in_flight >= options_.max_in_flight) return taken;
  size_t count = std::min(lane.waiting.size(), static_cast<size_t>(options_.max_batch));
  taken.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    taken.push_back(std::move(lane.waiting.front()));
    lane.waiting.pop_front();
  }
  ++lane.in_flight;
  return taken;
}

void BatchingTransport::Send(std::string key, Next next) {
  if (next.alone) {
    for (Pending& pending : next.calls)
      inner_->Call(std::move(pending.call), std::move(pending.done));
    return;
  }
  if (next.calls.empty()) return;
  if (next.calls.size() == 1) {
    Pending& single = next.calls.front();
    return inner_->Call(std::move(single.call), [this, key = std::move(key),
                                                 done = std::move(single.done)](CallResult result) {
      Send(key, Finished(key, nullptr));
      done(std::move(result));  // Last: the engine may be gone once its calls are answered.
    });
  }
  if (options_.observer != nullptr) {
    options_.observer->BatchSent(next.calls.front().call.phase, next.calls.size());
  }
  auto batch = std::make_shared<Batch>();
  batch->calls.reserve(next.calls.size());
  batch->dones.reserve(next.calls.size());
  for (Pending& pending : next.calls) {
    batch->calls.push_back(std::move(pending.call));
    batch->dones.push_back(std::move(pending.done));
  }
  inner_->CallBatch(batch->calls, [this, key = std::move(key),
                                   batch](absl::StatusOr<std::vector<CallResult>> results) {
    OnBatchDone(key, *batch, std::move(results));
  });
}

void BatchingTransport::OnBatchDone(const std::string& key, Batch& batch,
                                    absl::StatusOr<std::vector<CallResult>> results) {
  const size_t count = batch.calls.size();
  if (!results.ok() && results.status().code() == absl::StatusCode::kUnimplemented) {
    Next next = Finished(key, &batch.calls.front().target);
    std::vector<Pending> own;
    own.reserve(count);
    for (size_t i = 0; i < count; ++i) {
      own.push_back({std::move(batch.calls[i]), std::move(batch.dones[i])});
    }
    next.calls.insert(next.calls.begin(), std::make_move_iterator(own.begin()),
                      std::make_move_iterator(own.end()));
    next.alone = true;
    return Send(key, std::move(next));
  }
  if (results.ok() && results->size() != count) {
    results = absl::InternalError(
        absl::StrCat("participant answered ", results->size(), " results for a batch of ", count));
  }
  Send(key, Finished(key, nullptr));
  // Last: the engine may be gone once its calls are answered.
  for (size_t i = 0; i < count; ++i) {
    batch.dones[i](
        results.ok() ? std::move((*results)[i])
                     : CallResult{CallOutcome::kUnknown, std::string(results.status().message())});
  }
}

BatchingTransport::Next BatchingTransport::Finished(const std::string& key,
                                                    const std::string* unbatched_target) {
  Next next;
  tcc::MutexLock lock(&mu_);
  if (unbatched_target != nullptr) {
    unbatched_[*unbatched_target] = clock_->Now() + options_.reprobe_after;
  }
  auto it = lanes_.find(key);
  if (it == lanes_.end()) return next;
  Lane& lane = it->second;
  --lane.in_flight;
  if (!lane.waiting.empty() && UnbatchedLocked(lane.waiting.front().call.target)) {
    next.alone = true;
    next.calls.assign(std::make_move_iterator(lane.waiting.begin()),
                      std::make_move_iterator(lane.waiting.end()));
    lane.waiting.clear();
  } else {
    next.calls = TakeLocked(lane);
  }
  if (lane.in_flight == 0 && lane.waiting.empty()) lanes_.erase(it);
  return next;
}

bool BatchingTransport::UnbatchedLocked(const std::string& target) {
  auto it = unbatched_.find(target);
  if (it == unbatched_.end()) return false;
  if (clock_->Now() < it->second) return true;
  unbatched_.erase(it);  // Try a batch again.
  return false;
}

}  // namespace tcc
