// Operator actions from the admin API: resolve an unfinished GT by hand
// (drive it to a side, or mark it final without calling participants), and
// retry now (clear backoff). Every action is recorded in the timeline with
// the operator's name.
#include <limits>

#include "absl/strings/str_cat.h"
#include "coordinator/domain/trace_context.h"
#include "coordinator/engine/store_error.h"
#include "coordinator/engine/transaction_engine.h"
#include "tcc/common/logging.h"
#include "tcc/common/status_macros.h"

namespace tcc {
namespace {

// Room for a self-declared operator name (at most 128 bytes, checked by the
// Admin service) and the " (self-declared)" mark it gets there.
constexpr size_t kMaxActorBytes = 160;

// Answers `done` with `state` once the write it is given to is durable.
std::function<void(absl::Status)> ReplyWith(TransactionEngine::Callback<TxState> done,
                                            TxState state) {
  return [done, state](absl::Status status) {
    if (!status.ok()) return done(status);
    done(state);
  };
}

}  // namespace

void TransactionEngine::Resolve(std::string gid, Resolution resolution, std::string reason,
                                std::string actor, Callback<TxState> done) {
  if (absl::Status valid = ValidateGid(gid); !valid.ok()) return done(valid);
  if (reason.empty()) {
    return done(absl::InvalidArgumentError(
        "a reason is required to resolve a transaction by hand; it is kept in the timeline"));
  }
  if (absl::Status valid = ValidateText(reason, "reason", 1024); !valid.ok()) return done(valid);
  if (absl::Status valid = ValidateText(actor, "operator", kMaxActorBytes); !valid.ok())
    return done(valid);
  if (actor.empty()) actor = "unknown";
  WithTransaction(
      gid,
      [=, this](Active& active, After& after) {
        mu_.AssertHeld();
        absl::Status refused = ResolveLocked(active, resolution, reason, actor, done, after);
        if (!refused.ok()) after.push_back([done, refused] { done(refused); });
      },
      done);
}

absl::Status TransactionEngine::ResolveLocked(Active& active, Resolution resolution,
                                              const std::string& reason, const std::string& actor,
                                              Callback<TxState> done, After& after) {
  GlobalTransaction& gt = active.gt;
  TCC_RETURN_IF_ERROR(CheckResolution(gt, resolution));
  std::string why = absl::StrCat("resolved by ", actor, ": ", reason);
  switch (resolution) {
    case Resolution::kCommit:
    case Resolution::kRollback: {
      bool commit = resolution == Resolution::kCommit;
      if (gt.mode == TxMode::kSaga) {
        return ResolveSagaLocked(active, commit, std::move(why), actor, done, after);
      }
      return DriveToSideLocked(active, commit, std::move(why), actor, done, after);
    }
    case Resolution::kMarkCommitted:
      MarkFinalLocked(active, TxState::kCommitted, std::move(why), reason, actor, done);
      return absl::OkStatus();
    case Resolution::kMarkRolledBack:
      MarkFinalLocked(active, TxState::kRolledBack, std::move(why), reason, actor, done);
      return absl::OkStatus();
  }
  return absl::InvalidArgumentError("unknown resolution");
}

absl::Status TransactionEngine::DriveToSideLocked(Active& active, bool commit_side, std::string why,
                                                  const std::string& actor, Callback<TxState> done,
                                                  After& after) {
  GlobalTransaction& gt = active.gt;
  TxState driving = commit_side ? TxState::kCommitting : TxState::kRollingBack;
  if (gt.state == driving) {  // Already on that side: just push it now.
    ClearBackoffLocked(active, "", actor);
    after.push_back([done, driving] { done(driving); });
    return absl::OkStatus();
  }
  if (commit_side) {
    // REGISTERED branches are taken as TRIED on the operator's word (a
    // refused one was refused by CheckResolution); queued before the
    // decision, so durable no later than it.
    std::vector<size_t> taken_as_tried;
    for (size_t i = 0; i < gt.branches.size(); ++i) {
      if (gt.branches[i].state != BranchState::kRegistered) continue;
      gt.branches[i].state = BranchState::kTried;
      taken_as_tried.push_back(i);
    }
    if (!taken_as_tried.empty()) PersistLocked(active, {}, taken_as_tried, nullptr);
  }
  ApplyDecisionLocked(active, commit_side ? Decision::kCommit : Decision::kRollback, std::move(why),
                      actor, ReplyWith(done, driving));
  return absl::OkStatus();
}

void TransactionEngine::MarkFinalLocked(Active& active, TxState final_state, std::string why,
                                        const std::string& reason, const std::string& actor,
                                        Callback<TxState> done) {
  active.gt.decision_reason = std::move(why);
  FinalizeLocked(active, final_state,
                 {Event("operator",
                        absl::StrCat("marked ", TxStateName(final_state),
                                     " by hand, without calling participants: ", reason),
                        actor)},
                 ReplyWith(done, final_state));
}

absl::Status TransactionEngine::ResolveSagaLocked(Active& active, bool forward, std::string why,
                                                  const std::string& actor, Callback<TxState> done,
                                                  After& after) {
  TxState state = active.gt.state;
  if (forward || state == TxState::kCompensating) {  // Push it on the side it is on.
    ClearBackoffLocked(active, "", actor);
    after.push_back([done, state] { done(state); });
    return absl::OkStatus();
  }
  std::vector<TimelineEvent> events;
  std::vector<size_t> reset = StartCompensatingLocked(active, std::move(why), actor, events);
  TouchLocked(active);
  PersistLocked(
      active, {}, reset,
      [this, gid = active.gt.gid, done](absl::Status status) {
        if (!status.ok()) return done(StoreFailure(status, "recording the resolution failed"));
        done(TxState::kCompensating);
        CompensationDurable(gid);
      },
      std::move(events));
  return absl::OkStatus();
}

bool TransactionEngine::ClearBackoffLocked(Active& active, absl::string_view target,
                                           const std::string& actor) {
  GlobalTransaction& gt = active.gt;
  std::vector<size_t> changed;
  for (size_t i = 0; i < gt.branches.size(); ++i) {
    Branch& branch = gt.branches[i];
    bool matches = target.empty() || branch.target == target;
    if (matches && PhaseNeeded(gt, branch) && branch.next_retry_ms > 0) {
      branch.next_retry_ms = 0;
      changed.push_back(i);
      active.operator_retry[i] = true;
      transport_->ResetBackoff(branch.target);
    }
  }
  bool query_again = gt.state == TxState::kTrying && !active.querying &&
                     active.back_query.failing() &&
                     (target.empty() || target == gt.status_endpoint);
  if (changed.empty() && !query_again) return false;
  std::string what = target.empty() ? "retry now requested"
                                    : absl::StrCat("retry now requested for target ", target);
  PersistLocked(active, {}, changed, nullptr, {Event("operator", what, actor)});
  spdlog::info("{} {} by {}", LogTag(gt), what, actor);
  if (query_again) {
    // Like a branch's call: the back-query waits for the connection, and
    // gRPC's reconnect backoff toward the endpoint is forgotten.
    active.back_query.next_retry_ms = 0;
    active.back_query.operator_retry = true;
    transport_->ResetBackoff(gt.status_endpoint);
    scheduler_->Schedule(clock_->Now(), [this, gid = gt.gid] { OnDeadline(gid); });
  }
  active.drive_at_ms = std::numeric_limits<int64_t>::max();
  scheduler_->Schedule(clock_->Now(), [this, gid = gt.gid] { Drive(gid); });
  return true;
}

void TransactionEngine::RetryNow(std::string gid, std::string target, std::string actor,
                                 Callback<uint32_t> done) {
  if (gid.empty() == target.empty()) {
    return done(absl::InvalidArgumentError("RetryNow needs exactly one of gid and target"));
  }
  if (absl::Status valid = ValidateText(actor, "operator", kMaxActorBytes); !valid.ok())
    return done(valid);
  if (actor.empty()) actor = "unknown";
  if (!gid.empty()) {
    if (absl::Status valid = ValidateGid(gid); !valid.ok()) return done(valid);
    return WithTransaction(
        gid,
        [=, this](Active& active, After& after) {
          mu_.AssertHeld();
          if (IsFinal(active.gt.state)) {
            absl::Status final = absl::FailedPreconditionError(
                absl::StrCat("transaction ", active.gt.gid, " is already ",
                             TxStateName(active.gt.state), "; there is nothing to retry"));
            return after.push_back([done, final] { done(final); });
          }
          uint32_t count = ClearBackoffLocked(active, "", actor) ? 1 : 0;
          after.push_back([done, count] { done(count); });
        },
        done);
  }
  if (absl::Status valid = ValidateTarget(target, "target"); !valid.ok()) return done(valid);
  uint32_t count = 0;
  {
    tcc::MutexLock lock(&mu_);
    for (auto& [unused, active] : active_) {
      count += ClearBackoffLocked(*active, target, actor) ? 1 : 0;
    }
  }
  done(count);
}

}  // namespace tcc
