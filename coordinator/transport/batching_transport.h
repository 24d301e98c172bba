// A ParticipantTransport that sends Confirms and Cancels in batches when
// they queue up, over another transport. Per target and phase it keeps at
// most `max_in_flight` calls outstanding; a call that finds them all busy
// waits, and when one finishes, everything waiting (up to `max_batch`)
// goes as one batch (CallBatch). Under light load nothing waits and every
// call goes alone, as before; after an outage, when thousands of retries
// fall due at once, they go a hundred to a call.
//
// A target that answers a batch with UNIMPLEMENTED (a participant without
// the optional ParticipantBatch service) is remembered for
// `reprobe_after`: that batch, what waits for it and every later call to
// it meanwhile go one by one, unlimited, as if this layer were not there;
// after it, batches are tried again (the participant may have been
// upgraded without tccd restarting). Tries and calls that wait for the
// connection (an operator's retry) are never held or batched.
//
// Thread-safe. The inner transport must outlive this one.
#pragma once

#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "coordinator/domain/clock.h"
#include "coordinator/transport/participant_transport.h"
#include "tcc/common/mutex.h"

namespace tcc {

// What the batching layer reports (tccd's metrics). Called on the
// transport's threads; must be cheap and thread-safe.
class BatchObserver {
 public:
  virtual ~BatchObserver() = default;
  // A batch of `calls` Confirms or Cancels (two or more) was sent.
  virtual void BatchSent(Phase phase, size_t calls) = 0;
};

struct BatchingOptions {
  // Calls outstanding per target and phase before later ones wait.
  int max_in_flight = 8;
  // Calls per batch; 1 (or less) turns batching off.
  int max_batch = 128;
  // May be null; must outlive the transport.
  BatchObserver* observer = nullptr;
  // How long a target without batches gets every call alone.
  absl::Duration reprobe_after = absl::Minutes(10);
  // Null: the real clock. Must outlive the transport.
  const Clock* clock = nullptr;
};

class BatchingTransport final : public ParticipantTransport {
 public:
  BatchingTransport(ParticipantTransport* inner, BatchingOptions options);

  void Call(BranchCall call, std::function<void(CallResult)> done) override;
  void CallBatch(const std::vector<BranchCall>& calls, BatchDone done) override {
    inner_->CallBatch(calls, std::move(done));
  }
  void QueryInitiator(std::string endpoint, std::string gid, absl::Duration timeout,
                      bool wait_for_ready, std::string traceparent,
                      std::function<void(absl::StatusOr<InitiatorAnswer>)> done) override {
    inner_->QueryInitiator(std::move(endpoint), std::move(gid), timeout, wait_for_ready,
                           std::move(traceparent), std::move(done));
  }
  void ResetBackoff(const std::string& target) override { inner_->ResetBackoff(target); }

 private:
  struct Pending {
    BranchCall call;
    std::function<void(CallResult)> done;
  };
  // The calls of one target and phase.
  struct Lane {
    int in_flight = 0;
    std::deque<Pending> waiting;
  };

  // A batch in flight: its calls (sent by reference, kept for a fallback)
  // and their callbacks, in the same order.
  struct Batch {
    std::vector<BranchCall> calls;
    std::vector<std::function<void(CallResult)>> dones;
  };
  // What to send after a change to a lane: a batch (or one call) counted
  // in flight, or calls to send alone, uncounted.
  struct Next {
    std::vector<Pending> calls;
    bool alone = false;
  };

  static std::string LaneKey(const BranchCall& call);
  // The next calls to send from `lane` (empty if none may go now); counts
  // them as one call in flight.
  std::vector<Pending> TakeLocked(Lane& lane) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Send(std::string key, Next next);
  void OnBatchDone(const std::string& key, Batch& batch,
                   absl::StatusOr<std::vector<CallResult>> results);
  // One call in flight of lane `key` finished (its target now known not to
  // serve batches if `unbatched_target`): what to send next. Callers send
  // it before answering their calls, so that nothing touches this object
  // once the engine has heard every answer.
  Next Finished(const std::string& key, const std::string* unbatched_target);
  // Whether calls to `target` go alone now (it refused a batch less than
  // reprobe_after ago); forgets a refusal that is older.
  bool UnbatchedLocked(const std::string& target) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  ParticipantTransport* const inner_;
  const BatchingOptions options_;
  const RealClock real_clock_;
  const Clock* const clock_;
  tcc::Mutex mu_;
  absl::flat_hash_map<std::string, Lane> lanes_ ABSL_GUARDED_BY(mu_);
  // Targets that refused a batch, and until when their calls go alone.
  absl::flat_hash_map<std::string, absl::Time> unbatched_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tcc
