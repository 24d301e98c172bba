// The coordinator's engine: runs the TCC state machine for every global
// transaction, persisting each change through the StoreQueue before acting
// on it (write ahead) and before acknowledging it, and driving participant
// calls through the ParticipantTransport with retries on the TimerQueue.
//
// Every GT that is not final lives in memory (bounded by the number of
// unfinished GTs); final ones are read from the store on demand. Requests
// never block: each method takes a completion callback, run once the
// outcome is durable. Callbacks never run while the engine's lock is held.
// Thread-safe.
#pragma once

#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/random/random.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "coordinator/domain/clock.h"
#include "coordinator/domain/retry_policy.h"
#include "coordinator/domain/state_machine.h"
#include "coordinator/domain/validation.h"
#include "coordinator/engine/timer_queue.h"
#include "coordinator/store/store_queue.h"
#include "coordinator/transport/participant_transport.h"

namespace tcc {

struct EngineOptions {
  Limits limits;
  RetryPolicy retry;
  StuckThreshold stuck;
  absl::Duration default_timeout = absl::Seconds(30);
  absl::Duration call_timeout = absl::Seconds(5);
  absl::Duration query_timeout = absl::Seconds(3);
  // Attempts of a saga action on transport errors before the saga
  // compensates (a step may set its own).
  uint32_t saga_max_attempts = 5;
  // Confirm / Cancel / saga calls in flight at once; the rest wait in a
  // queue. Bounds memory and keeps a restart with many due retries from
  // flooding participants (and itself) with calls that would time out.
  int max_background_calls = 1024;
};

struct BeginParams {
  std::string gid;  // Empty: generated.
  uint32_t timeout_ms = 0;
  std::string status_endpoint;
};

struct BeginResult {
  std::string gid;
  bool created = false;
  TxState state = TxState::kTrying;
};

struct SagaParams {
  std::string gid;  // Empty: generated.
  std::vector<Branch> steps;
  bool concurrent = false;  // false: in the order given; true: a DAG by depends_on.
  bool wait_for_result = false;
  absl::Duration wait_timeout = absl::Seconds(30);
};

struct SagaResult {
  std::string gid;
  bool created = false;
  TxState state = TxState::kRunning;
  std::string reason;  // Why it compensated, once it did.
};

struct BranchTryOutcome {
  std::string branch_id;
  CallOutcome outcome = CallOutcome::kUnknown;
  std::string detail;
};

class TransactionEngine {
 public:
  template <typename T>
  using Callback = std::function<void(absl::StatusOr<T>)>;

  TransactionEngine(EngineOptions options, StoreQueue* store, ParticipantTransport* transport,
                    TimerQueue* timers, const Clock* clock);
  ~TransactionEngine();

  // Loads every unfinished GT and resumes it. Call once, before serving.
  absl::Status Recover();

  void Begin(BeginParams params, Callback<BeginResult> done);
  void Try(std::string gid, std::vector<Branch> branches,
           Callback<std::vector<BranchTryOutcome>> done);
  // Commit or Rollback. Answers with the GT's state once the decision is
  // durable.
  void Decide(std::string gid, Decision decision, Callback<TxState> done);
  // The durable state of a GT.
  void Get(std::string gid, Callback<GlobalTransaction> done);

  // Persists a saga, then runs it. Answers once it is durable, or once it
  // is final when params.wait_for_result (at most params.wait_timeout; then
  // with the state it is in).
  void SubmitSaga(SagaParams params, Callback<SagaResult> done);

  // Operator actions (the admin API). Both are recorded in the timeline
  // with `actor` and refused on final GTs.
  enum class Resolution { kCommit, kRollback, kMarkCommitted, kMarkRolledBack };
  void Resolve(std::string gid, Resolution resolution, std::string reason, std::string actor,
               Callback<TxState> done);
  // Clears the backoff of one GT (by gid) or of every unfinished GT with a
  // failing branch on `target`; answers how many were rescheduled.
  void RetryNow(std::string gid, std::string target, std::string actor, Callback<uint32_t> done);

  // Stops starting participant calls and waits (up to `grace`) for the
  // ones in flight to finish and their results to be queued.
  void Shutdown(absl::Duration grace);

  size_t ActiveCount() const;

 private:
  struct Active;
  struct TryOperation;
  using After = std::vector<std::function<void()>>;
  using WithFn = std::function<void(Active&, After&)>;

  void WithTransaction(const std::string& gid, WithFn fn, std::function<void(absl::Status)> fail);
  void OnLoaded(const std::string& gid, std::optional<GlobalTransaction> loaded, WithFn fn,
                std::function<void(absl::Status)> fail);
  Active& Install(GlobalTransaction gt, After& after) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnCreated(BeginParams params, GlobalTransaction created, bool inserted,
                 Callback<BeginResult> done);

  void ApplyDecision(Active& active, Decision decision, std::string reason, std::string actor,
                     std::function<void(absl::Status)> durable, After& after)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Queues the write of what changed. On failure the GT is evicted from
  // memory (and reloaded from the store) before `durable`, if given, runs.
  void Persist(Active& active, const std::vector<size_t>& added, const std::vector<size_t>& changed,
               std::function<void(absl::Status)> durable, std::vector<TimelineEvent> events = {})
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  TimelineEvent Event(std::string kind, std::string detail,
                      std::string actor = kCoordinatorActor) const;
  absl::Status ApplyResolution(Active& active, Resolution resolution, const std::string& reason,
                               const std::string& actor, Callback<TxState> done, After& after)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status ResolveSaga(Active& active, bool forward, std::string why, const std::string& actor,
                           Callback<TxState> done, After& after) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool ClearBackoff(Active& active, absl::string_view target, const std::string& actor)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Finalize(Active& active, TxState final_state, std::vector<TimelineEvent> events,
                std::function<void(absl::Status)> durable) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Evict(const std::string& gid);

  void Drive(const std::string& gid);
  void DriveLocked(Active& active, After& after) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ScheduleDrive(Active& active, int64_t at_ms) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void StartCall(BranchCall call, std::function<void(CallResult)> done, After& after,
                 bool background = true) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Takes one background call slot, or queues the GT to be driven again
  // when a slot frees up and returns false.
  bool TakeBackgroundSlot(Active& active) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Frees a slot; schedules the next waiting GT, if any.
  void ReleaseBackgroundSlot(After& after) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnPhaseResult(const std::string& gid, size_t index, Phase phase, CallResult result);
  // The GT whose call to branch `index` just answered, with that call no
  // longer in flight; nullptr when the GT has left memory meanwhile.
  Active* AnsweredLocked(const std::string& gid, size_t index) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Logs a failed Confirm/Cancel, at most one line per target per second
  // (with the count of failures not logged since): a participant that is
  // down fails every GT's call, and one line each would flood the log and
  // cost tccd CPU exactly while it catches up.
  void LogPhaseFailure(const std::string& gid, const Branch& branch, absl::Duration delay)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  void OnSagaCreated(SagaParams params, GlobalTransaction saga, bool inserted,
                     Callback<SagaResult> done);
  void DriveSagaLocked(Active& active, int64_t now, int64_t& next_due, After& after)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Sends a saga step's action once its attempt is durable (or gives its
  // call slot back when it is not).
  void SendSagaAction(const std::string& gid, size_t index, bool durable);
  void OnSagaActionResult(const std::string& gid, size_t index, CallResult result);
  void StartCompensating(Active& active, std::string reason, std::string actor,
                         std::vector<TimelineEvent>& events) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void AwaitFinal(Active& active, absl::Duration timeout, Callback<SagaResult> done, bool created)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The call a branch still needs, in either mode.
  std::optional<Phase> PhaseNeeded(const GlobalTransaction& gt, const Branch& branch) const;

  void StartTryCalls(std::shared_ptr<TryOperation> operation);
  void OnTryResult(std::shared_ptr<TryOperation> operation, size_t slot, CallResult result);
  void FinishTryCall(std::shared_ptr<TryOperation> operation, absl::Status status);

  void ScheduleDeadline(const Active& active) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnDeadline(const std::string& gid);
  void OnInitiatorAnswer(const std::string& gid, absl::StatusOr<InitiatorAnswer> answer);

  BranchCall MakeCall(const GlobalTransaction& gt, const Branch& branch, Phase phase) const;
  std::string NewGid() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Touch(Active& active) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  static void Run(After& after);

  const EngineOptions options_;
  StoreQueue* const store_;
  ParticipantTransport* const transport_;
  TimerQueue* const timers_;
  const Clock* const clock_;

  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<Active>> active_ ABSL_GUARDED_BY(mu_);
  absl::BitGen random_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int calls_in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  int background_calls_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<std::string> waiting_for_slot_ ABSL_GUARDED_BY(mu_);
  struct FailureLog {
    int64_t last_logged_ms = 0;
    int64_t not_logged = 0;
  };
  absl::flat_hash_map<std::string, FailureLog> failure_log_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tcc
