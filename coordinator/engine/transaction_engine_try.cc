// The Try fan-out: one initiator request registers its branches (durable
// before any participant sees a Try), calls every branch whose outcome is
// not known yet, records their results once the last is in (in memory until
// the decision's write on a lone tccd; written first when instances share
// the store), then answers one outcome per requested branch (the
// bookkeeping is TryFanOut's). Also the re-asking of Tries whose result was
// lost, before a Commit.
#include <iterator>
#include <optional>

#include "absl/strings/str_cat.h"
#include "coordinator/engine/store_error.h"
#include "coordinator/engine/transaction_engine.h"
#include "tcc/common/logging.h"

namespace tcc {

void TransactionEngine::Try(std::string gid, std::vector<Branch> branches,
                            Callback<TryAnswer> done) {
  if (absl::Status valid = ValidateGid(gid); !valid.ok()) return done(valid);
  if (options_.instance_id.empty()) return TryOnce(gid, std::move(branches), std::move(done));
  // Kept for a second attempt (RetryOnceIfFencedAway): one copy of the
  // payloads, only when instances share the store.
  auto kept = std::make_shared<const std::vector<Branch>>(std::move(branches));
  RetryOnceIfFencedAway<TryAnswer>(
      [this, gid, kept](Callback<TryAnswer> attempt_done) {
        TryOnce(gid, *kept, std::move(attempt_done));
      },
      std::move(done));
}

void TransactionEngine::BeginAndTry(BeginParams params, std::vector<Branch> branches,
                                    Callback<TryAnswer> done) {
  absl::StatusOr<GlobalTransaction> gt = NewTcc(params);
  if (!gt.ok()) return done(gt.status());
  params.timeout_ms = gt->timeout_ms;  // The default filled in.
  // Kept for a plain Try, should the gid turn out to exist.
  auto kept = std::make_shared<const std::vector<Branch>>(branches);
  absl::StatusOr<TryPlan> plan = PlanTry(*gt, std::move(branches), options_.limits);
  if (!plan.ok()) return done(plan.status());
  TimelineEvent begun = BeginEvent(*gt);
  // One write: the GT with its branches REGISTERED, durable before any
  // participant sees a Try (write ahead), where Begin and the registration
  // take two.
  CreateOrLoad(*std::move(gt), std::move(begun), "recording the transaction failed",
               [this, plan = *std::move(plan), kept, params,
                done = std::move(done)](absl::StatusOr<CreateOrLoadResult> created) mutable {
                 if (!created.ok()) return done(created.status());
                 if (!created->created) {
                   absl::Status same = SameBegin(created->gt, params);
                   if (!same.ok()) return done(same);
                   return Try(created->gt.gid, *kept, std::move(done));
                 }
                 StartCreated(std::move(created->gt), plan, kept, std::move(done));
               });
}

void TransactionEngine::StartCreated(GlobalTransaction gt, const TryPlan& plan,
                                     std::shared_ptr<const std::vector<Branch>> kept,
                                     Callback<TryAnswer> done) {
  // Another instance may claim the new GT before its results are written
  // (this one paused past its lease): the fence refuses them, and the Try
  // is run once more as a plain one, which claims it back.
  auto fan_out = std::make_shared<TryFanOut>(
      gt.gid, [this, gid = gt.gid, kept, done = std::move(done)](absl::StatusOr<TryAnswer> answer) {
        if (!answer.ok() && FencedAway(answer.status())) return Try(gid, *kept, done);
        done(std::move(answer));
      });
  fan_out->Plan(plan, gt.branches);
  After after;
  {
    tcc::MutexLock lock(&mu_);
    // A concurrent Begin of the same gid may have loaded it already.
    if (!active_.contains(gt.gid)) InstallLocked(std::move(gt), after);
  }
  Run(after);
  StartTryCalls(fan_out);
}

void TransactionEngine::TryOnce(const std::string& gid, std::vector<Branch> branches,
                                Callback<TryAnswer> done) {
  auto fan_out = std::make_shared<TryFanOut>(gid, std::move(done));
  // Shared so the (possibly large) payloads are moved, not copied, into the
  // GT when the lookup completes.
  auto requested = std::make_shared<std::vector<Branch>>(std::move(branches));
  WithTransaction(
      gid,
      [this, fan_out, requested](Active& active, After& after) {
        mu_.AssertHeld();
        PlanTryLocked(active, fan_out, std::move(*requested), after);
      },
      [fan_out](absl::Status status) { fan_out->Fail(status); });
}

void TransactionEngine::PlanTryLocked(Active& active, std::shared_ptr<TryFanOut> fan_out,
                                      std::vector<Branch> requested, After& after) {
  absl::StatusOr<TryPlan> plan = PlanTry(active.gt, std::move(requested), options_.limits);
  if (!plan.ok()) {
    after.push_back([fan_out, status = plan.status()] { fan_out->Fail(status); });
    return;
  }
  active.FitFlags(clock_->NowMs());
  fan_out->Plan(*plan, active.gt.branches);
  if (plan->added.empty()) {
    // Nothing to register: memory may still be ahead of the store (the
    // registration of these branches, or another request's results, queued
    // and not durable yet). Neither a Try call (write ahead) nor an answer
    // from memory may come before they are; if one was lost, UNAVAILABLE.
    AfterQueuedWritesLocked(active, [this, fan_out](absl::Status status) {
      if (!status.ok())
        return fan_out->Fail(StoreFailure(status, "recording the Try result failed"));
      StartTryCalls(fan_out);
    });
    return;
  }
  // Write ahead: the branches are durable before any participant sees a
  // Try, so that after a crash the coordinator knows what to cancel.
  TouchLocked(active);
  PersistLocked(active, plan->added, {}, [this, fan_out](absl::Status status) {
    if (!status.ok()) return fan_out->Fail(StoreFailure(status, "registering the branches failed"));
    StartTryCalls(fan_out);
  });
}

void TransactionEngine::StartTryCalls(std::shared_ptr<TryFanOut> fan_out) {
  After after;
  fan_out->Start();
  {
    tcc::MutexLock lock(&mu_);
    auto it = active_.find(fan_out->gid());
    for (size_t call = 0; call < fan_out->to_call().size(); ++call) {
      bool still_trying = it != active_.end() && it->second->gt.state == TxState::kTrying;
      if (!still_trying || stopping_) {
        after.push_back([this, fan_out, call] {
          OnTryResult(fan_out, call,
                      {CallOutcome::kUnknown,
                       "the transaction was decided or the coordinator "
                       "is stopping before Try was sent"});
        });
        continue;
      }
      const GlobalTransaction& gt = it->second->gt;
      StartCallLocked(
          MakeCall(gt, gt.branches[fan_out->to_call()[call]], Phase::kTry),
          [this, fan_out, call](CallResult result) {
            OnTryResult(fan_out, call, std::move(result));
          },
          after, /*background=*/false);
    }
  }
  Run(after);
  fan_out->Finish(absl::OkStatus());
}

void TransactionEngine::OnTryResult(std::shared_ptr<TryFanOut> fan_out, size_t call,
                                    CallResult result) {
  // The results are recorded together once the last is in: the answer
  // waits for every call anyway. Until then the GT in memory still shows
  // these branches REGISTERED, as the store does.
  if (!fan_out->Record(call, result)) return fan_out->Finish(absl::OkStatus());
  std::optional<absl::Status> answer = RecordTryResults(fan_out);
  if (answer) fan_out->Finish(*std::move(answer));
}

std::optional<absl::Status> TransactionEngine::RecordTryResults(
    std::shared_ptr<TryFanOut> fan_out) {
  tcc::MutexLock lock(&mu_);
  auto it = active_.find(fan_out->gid());
  if (it == active_.end()) {
    // Dropped after a store error (or finished): the results cannot be
    // recorded, and a success the store does not know of must not reach
    // the initiator, which would commit locally on it.
    return absl::UnavailableError(absl::StrCat(
        "the Try result of ", fan_out->gid(),
        " could not be recorded: the transaction left memory meanwhile (after a store error, "
        "it is reloaded); retry the Try, which is idempotent"));
  }
  // A GT decided meanwhile (e.g. timed out) no longer needs the results.
  if (it->second->gt.state != TxState::kTrying) return absl::OkStatus();
  Active& active = *it->second;
  std::vector<size_t> changed;
  std::vector<TimelineEvent> events;
  for (size_t call = 0; call < fan_out->to_call().size(); ++call) {
    size_t index = fan_out->to_call()[call];
    Branch& branch = active.gt.branches[index];
    ApplyTryResult(branch, fan_out->ResultOf(call));
    std::string detail = absl::StrCat("branch ", branch.branch_id, " on ", branch.target, ": ",
                                      BranchStateName(branch.state));
    if (!branch.last_error.empty()) absl::StrAppend(&detail, " (", branch.last_error, ")");
    events.push_back(Event("branch", std::move(detail)));
    changed.push_back(index);  // once: PlanTry refuses a branch listed twice
  }
  TouchLocked(active);
  if (!options_.instance_id.empty()) {
    // Instances share the store, and the Commit may reach another one,
    // which knows only what is durable: the results are written before
    // the initiator sees them.
    PersistLocked(
        active, {}, changed,
        [this, fan_out](absl::Status status) {
          if (status.ok() && CommittableAfter(*fan_out)) fan_out->MarkCommittable();
          fan_out->Finish(StoreFailure(status, "recording the Try result failed"));
        },
        std::move(events));
    return std::nullopt;  // answered once they are durable
  }
  // One instance: the results wait in memory for the GT's next write,
  // usually the decision's (Active::unwritten). A result lost in a crash
  // leaves its branch REGISTERED in the store, and a Commit, or a
  // back-query answered COMMITTED, asks that Try again (idempotent) before
  // deciding (ReaskTriesLocked).
  active.FitFlags(clock_->NowMs());
  for (size_t index : changed) active.unwritten[index] = true;
  std::move(events.begin(), events.end(), std::back_inserter(active.unwritten_events));
  if (Committable(active.gt, *fan_out)) fan_out->MarkCommittable();
  return absl::OkStatus();
}

bool TransactionEngine::CommittableAfter(const TryFanOut& fan_out) {
  tcc::MutexLock lock(&mu_);
  auto it = active_.find(fan_out.gid());
  if (it == active_.end()) return false;
  // Memory is never behind the store; here it is not ahead either for
  // what counts: the state moves on from TRYING only by a decision, and
  // each TRIED branch this request named was either tried by it (durable
  // now) or TRIED when it was planned, by a write queued before its own.
  // A branch it did not name may have been TRIED by a write not durable
  // yet: then it answers false and the initiator asks GetTransaction.
  return Committable(it->second->gt, fan_out);
}

bool TransactionEngine::Committable(const GlobalTransaction& gt, const TryFanOut& fan_out) {
  if (gt.state != TxState::kTrying || gt.status_endpoint.empty()) return false;
  if (gt.branches.size() != fan_out.requested()) return false;
  for (const Branch& branch : gt.branches) {
    if (branch.state != BranchState::kTried) return false;
  }
  return true;
}

bool TransactionEngine::HasUnknownTries(const Active& active) {
  if (active.gt.state != TxState::kTrying) return false;
  for (const Branch& branch : active.gt.branches) {
    if (branch.state == BranchState::kRegistered) return true;
  }
  return false;
}

void TransactionEngine::ReaskTriesLocked(Active& active, After& after, std::function<void()> then) {
  std::vector<Branch> unknown;
  for (const Branch& branch : active.gt.branches) {
    if (branch.state == BranchState::kRegistered) unknown.push_back(branch);
  }
  spdlog::info("{} asks {} Try(s) again before deciding: their result is not known here",
               LogTag(active.gt), unknown.size());
  after.push_back(
      [this, gid = active.gt.gid, unknown = std::move(unknown), then = std::move(then)]() mutable {
        TryOnce(gid, std::move(unknown), [then](absl::StatusOr<TryAnswer>) { then(); });
      });
}

}  // namespace tcc
