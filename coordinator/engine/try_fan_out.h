// One Try request as it fans out to the participants: the outcome of every
// requested branch in request order (seeded from what the GT already knows,
// so a branch that need not be called answers at once), which call fills
// which outcome, and the countdown that answers the initiator once every
// call's result is recorded and durable, or with the first error; and
// which result is the last, so that all of them are written to the store
// in one write. Knows nothing of the engine, the store or the transport.
// Thread-safe: each outcome slot is written by exactly one call and read
// only once every call has recorded (the last Record returns true) or
// after the countdown ends; mu_ guards the counts and the first error.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "coordinator/domain/state_machine.h"
#include "tcc/common/mutex.h"

namespace tcc {

struct BranchTryOutcome {
  std::string branch_id;
  CallOutcome outcome = CallOutcome::kUnknown;
  std::string detail;
};

// What a Try request is answered: one outcome per requested branch, in
// request order, and whether the GT was committable once they were
// durable (TryReply.committable; the engine decides it).
struct TryAnswer {
  std::vector<BranchTryOutcome> outcomes;
  bool committable = false;
};

class TryFanOut {
 public:
  using Done = std::function<void(absl::StatusOr<TryAnswer>)>;

  TryFanOut(std::string gid, Done done) : gid_(std::move(gid)), done_(std::move(done)) {}

  // Seeds one outcome per requested branch from its state in `branches`,
  // and notes which branches must be called. Call once, before Start.
  void Plan(const TryPlan& plan, const std::vector<Branch>& branches);

  const std::string& gid() const { return gid_; }
  // Branch indexes to call; call number i is to_call()[i].
  const std::vector<size_t>& to_call() const { return to_call_; }
  // How many branches the request named (each once).
  size_t requested() const { return outcomes_.size(); }
  // The answer will say the GT is committable (before the last Finish).
  void MarkCommittable();

  // Arms the countdown: one part per call, plus one held by the caller of
  // Start, who gives it back with Finish once every call is started.
  void Start();
  // Records call number `call`'s result in its outcome slot; true when it
  // was the last call's result (every slot filled).
  bool Record(size_t call, const CallResult& result);
  // Call number `call`'s recorded result; read after the last Record.
  CallResult ResultOf(size_t call) const;
  // Ends one part (a call whose result is durable, or the starter's), with
  // an error if it failed. The last part answers: the outcomes, or the
  // first error.
  void Finish(absl::Status status);
  // Answers at once, before any call was started.
  void Fail(absl::Status status) { done_(std::move(status)); }

 private:
  const std::string gid_;
  const Done done_;
  std::vector<size_t> to_call_;
  std::vector<size_t> slot_of_call_;  // to_call_[i] fills outcomes_[slot_of_call_[i]].
  std::vector<BranchTryOutcome> outcomes_;
  tcc::Mutex mu_;
  size_t pending_ ABSL_GUARDED_BY(mu_) = 0;
  size_t results_left_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status error_ ABSL_GUARDED_BY(mu_);
  bool committable_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace tcc
