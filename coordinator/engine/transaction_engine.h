// The coordinator's engine: runs the TCC and saga state machines for every
// global transaction, persisting each change through the StoreExecutor (in
// tccd the StoreQueue's group commit) before acting on it (write ahead) and
// before acknowledging it, and driving participant calls through the
// ParticipantTransport with retries scheduled on the injected Scheduler.
//
// Every GT that is not final lives in memory (bounded by the number of
// unfinished GTs); final ones are read from the store on demand. Requests
// never block: each method takes a completion callback, run once the
// outcome is durable. Callbacks never run while the engine's lock is held.
//
// The class is cut by responsibility into files, each a section of the
// private interface below: transaction_engine.cc (the table of unfinished
// GTs, loading, writing, finishing), _tcc.cc (Begin, Decide, driving
// Confirm / Cancel), _try.cc (the Try fan-out), _timeout.cc (deadlines and
// back-queries), _operator.cc (Resolve, RetryNow), _saga.cc (sagas). Leaf
// parts have headers and tests of their own: CallLimiter,
// FailureLogThrottle, TryFanOut, JudgeBackQuery, and TransactionWrite in
// store/; the protocol's rules are in domain/ (state_machine, saga).
//
// Starts, finishes, participant calls and back-queries are reported to an
// optional EngineObserver (tccd's metrics), timed on the injected Clock.
//
// Time and scheduling come only from the injected Clock and Scheduler, and
// randomness from a seeded generator: the engine starts no thread and reads
// no wall clock, so a ManualClock and ManualScheduler make it deterministic.
// Thread-safe: one mutex, mu_, guards every unfinished GT and the engine's
// own state. A private method that needs mu_ held ends in "Locked".
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "coordinator/domain/clock.h"
#include "coordinator/domain/resolution.h"
#include "coordinator/domain/retry_policy.h"
#include "coordinator/domain/scheduler.h"
#include "coordinator/domain/state_machine.h"
#include "coordinator/domain/validation.h"
#include "coordinator/engine/active_transaction.h"
#include "coordinator/engine/back_query.h"
#include "coordinator/engine/call_limiter.h"
#include "coordinator/engine/engine_observer.h"
#include "coordinator/engine/failure_log.h"
#include "coordinator/engine/try_fan_out.h"
#include "coordinator/store/store_executor.h"
#include "coordinator/store/transaction_write.h"
#include "coordinator/transport/participant_transport.h"
#include "tcc/common/mutex.h"

namespace tcc {

struct EngineOptions {
  Limits limits;
  RetryPolicy retry;
  StuckThreshold stuck;
  absl::Duration default_timeout = absl::Seconds(30);
  absl::Duration call_timeout = absl::Seconds(5);
  absl::Duration query_timeout = absl::Seconds(3);
  // A failing Confirm / Cancel's retry state (attempts, last error, next
  // retry) is written at the branch's first failure, when the GT is flagged
  // stuck, and then at most once per interval: for these phases attempts
  // only inform operators (Get shows this instance's memory), and a write
  // per failed call was about a fifth of tccd's CPU while 100,000 GTs
  // retried after a restart. Zero writes every failure.
  absl::Duration retry_state_write_interval = absl::Seconds(10);
  // Attempts of a saga action on transport errors before the saga
  // compensates (a step may set its own).
  uint32_t saga_max_attempts = 5;
  // Confirm / Cancel / saga calls in flight at once; the rest wait in a
  // queue. Bounds memory and keeps a restart with many due retries from
  // flooding participants (and itself) with calls that would time out.
  int max_background_calls = 1024;
  // Seeds backoff jitter and generated gids; 0: a random seed. A simulator
  // sets it to replay one schedule.
  uint64_t random_seed = 0;
  // Told of starts, finishes and calls (metrics). Not owned; outlives the
  // engine. nullptr: nobody listens.
  EngineObserver* observer = nullptr;
  // This coordinator among several sharing one store (docs/ownership.md):
  // the owner it writes as. A GT owned by another instance is not driven
  // here; the first write of it here claims it (epoch + 1), and a write
  // refused by the fence drops it. "": the one coordinator of its store.
  std::string instance_id;
};

// The GTs in memory (every unfinished one), for gauges read at scrape
// time.
struct UnfinishedSummary {
  std::map<TxState, size_t> by_state;  // States with none are absent.
  size_t stuck = 0;
  // Creation time of the oldest; 0 when there is none.
  int64_t oldest_created_ms = 0;
};

struct BeginParams {
  std::string gid;  // Empty: generated.
  uint32_t timeout_ms = 0;
  std::string status_endpoint;
  std::string traceparent;  // W3C, already checked (trace_context.h); "" if none.
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
  std::string traceparent;  // As in BeginParams.
};

struct SagaResult {
  std::string gid;
  bool created = false;
  TxState state = TxState::kRunning;
  std::string reason;  // Why it compensated, once it did.
};

class TransactionEngine {
 public:
  template <typename T>
  using Callback = std::function<void(absl::StatusOr<T>)>;

  TransactionEngine(EngineOptions options, StoreExecutor* store, ParticipantTransport* transport,
                    Scheduler* scheduler, const Clock* clock);
  ~TransactionEngine();

  // Loads every unfinished GT and resumes it. Call once, before serving.
  absl::Status Recover();

  void Begin(BeginParams params, Callback<BeginResult> done);
  // Registers the branches (refusing a branch id listed twice) and calls
  // the participants' Try; answers one outcome per requested branch, and
  // whether the GT is committable now (TryAnswer).
  // Begin folded into the first Try: an unknown gid is created with
  // `params` and the branches in one durable write, then tried; a known
  // one begun with the same parameters is tried as Try does (other
  // parameters: ALREADY_EXISTS, as Begin).
  void BeginAndTry(BeginParams params, std::vector<Branch> branches, Callback<TryAnswer> done);
  void Try(std::string gid, std::vector<Branch> branches, Callback<TryAnswer> done);
  // Commit or Rollback. Answers with the GT's state once the decision is
  // durable.
  void Decide(std::string gid, Decision decision, Callback<TxState> done);
  // The durable state of a GT, with its failing branches' attempts, last
  // error and next retry as this instance knows them (they are written at
  // most every retry_state_write_interval).
  void Get(std::string gid, Callback<GlobalTransaction> done);

  // Persists a saga, then runs it. Answers once it is durable, or once it
  // is final when params.wait_for_result (at most params.wait_timeout; then
  // with the state it is in).
  void SubmitSaga(SagaParams params, Callback<SagaResult> done);

  // Operator actions (the admin API). Both are recorded in the timeline
  // with `actor` and refused on final GTs.
  using Resolution = ::tcc::Resolution;
  void Resolve(std::string gid, Resolution resolution, std::string reason, std::string actor,
               Callback<TxState> done);
  // Clears the backoff of one GT (by gid) or of every unfinished GT with a
  // failing branch, or a failing back-query, on `target`; answers how many
  // were rescheduled. The calls it causes wait for the connection, and the
  // transport's reconnect backoff toward their targets is reset.
  void RetryNow(std::string gid, std::string target, std::string actor, Callback<uint32_t> done);

  // Claims up to `limit` GTs of dead or departed instances and resumes
  // them; answers how many. For the takeover loop of a shared store.
  void TakeOver(size_t limit, Callback<size_t> done);

  // Stops starting participant calls and waits (up to `grace`) for the
  // ones in flight to finish and their results to be queued.
  void Shutdown(absl::Duration grace);

  // The back-queries of an unfinished GT this engine holds, once one was
  // sent; nullopt otherwise (also for a GT another instance owns).
  std::optional<BackQueryProgress> BackQueryOf(const std::string& gid) const;
  // Copies into `stored` (a GT read from the store) what this engine's
  // memory holds newer and has not written yet: its branches' retry state
  // (attempts, last error, next retry; EngineOptions::
  // retry_state_write_interval) and Confirm / Cancel successes waiting for
  // the GT's next write (Active::unwritten).
  void AddLiveBranchState(GlobalTransaction& stored) const;
  // Status endpoints whose back-queries are failing, most failed attempts
  // first: one pass under the lock, for the operator's stats.
  std::vector<FailingEndpoint> FailingStatusEndpoints() const;

  size_t ActiveCount() const;
  // Counts by state, stuck ones and the oldest: one pass over every
  // unfinished GT under the lock, for a scrape, not for a request path.
  UnfinishedSummary Unfinished() const;

 private:
  using Active = ActiveTransaction;
  using After = std::vector<std::function<void()>>;
  // Runs with mu_ held, on an unfinished GT or on a read-only copy of a
  // final one (whose changes are discarded).
  using WithFn = std::function<void(Active&, After&)>;
  using StatusFn = std::function<void(absl::Status)>;

  // ---- transaction_engine.cc: the table of unfinished GTs, their writes.
  void WithTransaction(const std::string& gid, WithFn fn, StatusFn fail);
  void OnLoaded(const std::string& gid, std::optional<GlobalTransaction> loaded, WithFn fn,
                StatusFn fail);
  Active& InstallLocked(GlobalTransaction gt, After& after) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Starts the deadline or the drive of a GT this instance owns.
  void ResumeLocked(Active& active, After& after) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool MineLocked(const GlobalTransaction& gt) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return gt.owner == options_.instance_id;
  }
  // Runs `fn` on a loaded GT that another instance owns: if `fn` wrote it
  // (claiming it), it stays and is resumed here; otherwise it is dropped.
  void WithForeignLocked(GlobalTransaction gt, const WithFn& fn, After& after)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Inserts a new GT, or reads back the stored one with the same gid.
  void CreateOrLoad(GlobalTransaction gt, TimelineEvent first_event, absl::string_view what,
                    Callback<CreateOrLoadResult> done);
  // Runs `done` once every write of `active`'s copy queued so far is
  // durable: OK, or UNAVAILABLE when one of them was lost (the write chain).
  void AfterQueuedWritesLocked(Active& active, StatusFn done) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Queues the write of what changed, and of the changes that waited in
  // memory (Active::unwritten). On failure the GT is evicted from memory
  // (and reloaded from the store) before `durable`, if given, runs.
  void PersistLocked(Active& active, const std::vector<size_t>& added, std::vector<size_t> changed,
                     StatusFn durable, std::vector<TimelineEvent> events = {})
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FinalizeLocked(Active& active, TxState final_state, std::vector<TimelineEvent> events,
                      StatusFn durable) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnFinalDurable(const std::string& gid);
  // After a failed write of `chain`: drops the GT (if memory still holds
  // that copy) and reloads it from the store, or, when the fence refused
  // the write (ownership moved to another instance), only drops it.
  // `log_tag` names the GT in log lines (trace_context.h's LogTag).
  void Evict(const std::string& gid, const std::string& log_tag, const absl::Status& why,
             const WriteChain* chain);
  // Reads the GT back from the store and resumes it; retried with a
  // growing delay until it succeeds, the GT is gone, or the engine stops.
  void ReloadAfterStoreError(const std::string& gid, absl::Duration delay);
  void TouchLocked(Active& active) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  TimelineEvent Event(std::string kind, std::string detail,
                      std::string actor = kCoordinatorActor) const;
  std::string NewGidLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  static void Run(After& after);

  // A request that reached this instance while it held a stale copy of the
  // GT (another instance claimed it since) is refused by the fence, and the
  // copy is dropped. Run once more, the request loads the GT from the store
  // and claims it, as any request reaching a non-owner does; so `attempt`
  // runs a second time when the first failed that way, and only a second
  // refusal (a real race with another instance) reaches `done`.
  template <typename T>
  void RetryOnceIfFencedAway(std::function<void(Callback<T>)> attempt, Callback<T> done);
  // `status` says the GT moved to another instance since this one loaded it.
  bool FencedAway(const absl::Status& status) const;

  // ---- transaction_engine_tcc.cc: Begin, Decide, Confirm / Cancel calls.
  // `may_reask`: a Commit may first ask again the Tries whose result is not
  // known here (ReaskTriesLocked), once.
  void DecideOnce(const std::string& gid, Decision decision, bool may_reask,
                  Callback<TxState> done);
  // A new TCC GT from Begin's parameters (validated; defaults and a gid
  // filled in); BeginEvent is its "begin" timeline event.
  absl::StatusOr<GlobalTransaction> NewTcc(const BeginParams& params);
  // OK when `existing` was begun with `params` (timeout filled in): a
  // repeated Begin; ALREADY_EXISTS naming its parameters otherwise.
  static absl::Status SameBegin(const GlobalTransaction& existing, const BeginParams& params);
  TimelineEvent BeginEvent(const GlobalTransaction& gt) const;
  void OnBegun(BeginParams params, CreateOrLoadResult created, Callback<BeginResult> done);
  void DecideLocked(Active& active, Decision decision, Callback<TxState> done, After& after)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ApplyDecisionLocked(Active& active, Decision decision, std::string reason, std::string actor,
                           StatusFn durable) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Drive(const std::string& gid);
  void DriveLocked(Active& active, After& after) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void DriveTccLocked(Active& active, int64_t now, After& after) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ScheduleDriveLocked(Active& active, int64_t at_ms) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void StartCallLocked(BranchCall call, std::function<void(CallResult)> done, After& after,
                       bool background = true) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Frees a background slot and drives the GT that waited longest for one.
  void ReleaseBackgroundSlot();
  void OnPhaseResult(const std::string& gid, size_t index, Phase phase, CallResult result);
  // The GT whose call to branch `index` just answered, with that call no
  // longer in flight; nullptr when the GT has left memory meanwhile.
  Active* AnsweredLocked(const std::string& gid, size_t index) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void LogPhaseFailureLocked(const std::string& log_tag, const Branch& branch, absl::Duration delay)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Whether a TCC branch's Confirm / Cancel success may wait in memory
  // (Active::unwritten) for the GT's next write: another call is in flight,
  // or the GT is final now.
  bool SuccessCanWaitLocked(const Active& active) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Whether a Confirm / Cancel result of branch `index` goes to the store
  // now (EngineOptions::retry_state_write_interval).
  bool RetryStateDueLocked(const Active& active, size_t index, bool succeeded) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Duration BackoffLocked(uint32_t failed_attempts) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  BranchCall MakeCall(const GlobalTransaction& gt, const Branch& branch, Phase phase) const;
  // The call a branch still needs, in either mode.
  static std::optional<Phase> PhaseNeeded(const GlobalTransaction& gt, const Branch& branch);

  // ---- transaction_engine_try.cc: the Try fan-out.
  void TryOnce(const std::string& gid, std::vector<Branch> branches, Callback<TryAnswer> done);
  void PlanTryLocked(Active& active, std::shared_ptr<TryFanOut> fan_out,
                     std::vector<Branch> requested, After& after)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void StartTryCalls(std::shared_ptr<TryFanOut> fan_out);
  void OnTryResult(std::shared_ptr<TryFanOut> fan_out, size_t call, CallResult result);
  // Installs a GT BeginAndTry created with its branches and tries them.
  // `kept`: the requested branches, for a plain Try if the fence refuses.
  void StartCreated(GlobalTransaction gt, const TryPlan& plan,
                    std::shared_ptr<const std::vector<Branch>> kept, Callback<TryAnswer> done);
  // Applies every result of the fan-out to the GT. Alone on the store, they
  // wait in memory for the GT's next write and the fan-out is answered with
  // the status returned; with other instances they are written first and
  // nullopt says the write's completion answers.
  std::optional<absl::Status> RecordTryResults(std::shared_ptr<TryFanOut> fan_out);
  // Once the fan-out's results are durable: the GT is TRYING, has a status
  // endpoint, and every branch of it, all named by this request, is TRIED.
  bool CommittableAfter(const TryFanOut& fan_out);
  static bool Committable(const GlobalTransaction& gt, const TryFanOut& fan_out);
  // A TRYING GT with a branch whose Try result is not known here: never
  // answered, unknown, or lost in a crash before the decision's write.
  static bool HasUnknownTries(const Active& active);
  // Asks those Tries again (idempotent at the participant), then `then`.
  void ReaskTriesLocked(Active& active, After& after, std::function<void()> then)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // ---- transaction_engine_timeout.cc: deadlines and back-queries.
  void ScheduleDeadlineLocked(const Active& active) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnDeadline(const std::string& gid);
  void SendBackQueryLocked(Active& active, After& after) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // `may_reask`: a COMMITTED answer may first ask again the Tries whose
  // result is not known here (ReaskTriesLocked), once per answer.
  void OnInitiatorAnswer(const std::string& gid, absl::StatusOr<InitiatorAnswer> answer,
                         bool may_reask = true);
  void JudgeAnswerLocked(Active& active, const absl::StatusOr<InitiatorAnswer>& answer,
                         bool may_reask, After& after) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ReportBackQuery(const absl::StatusOr<InitiatorAnswer>& answer, absl::Duration latency);
  void RetryQueryLocked(Active& active, const absl::Status& why) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RecordBackQueryRecoveredLocked(Active& active) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void LogBackQueryFailureLocked(const Active& active, absl::Duration delay)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // ---- transaction_engine_operator.cc: Resolve and RetryNow.
  absl::Status ResolveLocked(Active& active, Resolution resolution, const std::string& reason,
                             const std::string& actor, Callback<TxState> done, After& after)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status DriveToSideLocked(Active& active, bool commit_side, std::string why,
                                 const std::string& actor, Callback<TxState> done, After& after)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void MarkFinalLocked(Active& active, TxState final_state, std::string why,
                       const std::string& reason, const std::string& actor, Callback<TxState> done)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status ResolveSagaLocked(Active& active, bool forward, std::string why,
                                 const std::string& actor, Callback<TxState> done, After& after)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool ClearBackoffLocked(Active& active, absl::string_view target, const std::string& actor)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // ---- transaction_engine_saga.cc: sagas.
  void OnSagaCreated(SagaParams params, CreateOrLoadResult created, Callback<SagaResult> done);
  void DriveSagaLocked(Active& active, int64_t now, After& after)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Sends a saga step's action once its attempt is durable (or gives its
  // call slot back when it is not).
  void SendSagaAction(const std::string& gid, size_t index, bool durable);
  void OnSagaActionResult(const std::string& gid, size_t index, CallResult result);
  // The COMPENSATING decision is durable: compensations may go out now.
  void CompensationDurable(const std::string& gid);
  // Starts compensating (no compensation is sent until its write is
  // durable: CompensationDurable); returns the steps whose progress it reset.
  std::vector<size_t> StartCompensatingLocked(Active& active, std::string reason, std::string actor,
                                              std::vector<TimelineEvent>& events)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void AwaitFinalLocked(Active& active, absl::Duration timeout, Callback<SagaResult> done,
                        bool created) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The same for a saga another instance drives: reads it from the store
  // every kForeignPoll until it is final or `deadline` passes.
  void AwaitForeignFinal(std::string gid, absl::Time deadline, Callback<SagaResult> done,
                         bool created);

  const EngineOptions options_;
  StoreExecutor* const store_;
  ParticipantTransport* const transport_;
  Scheduler* const scheduler_;
  const Clock* const clock_;
  EngineObserver* const observer_;  // Never null: a no-op when none is given.
  CallLimiter limiter_;             // Its own leaf lock.

  mutable tcc::Mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<Active>> active_ ABSL_GUARDED_BY(mu_);
  std::mt19937_64 random_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  FailureLogThrottle failure_log_ ABSL_GUARDED_BY(mu_);
};

template <typename T>
void TransactionEngine::RetryOnceIfFencedAway(std::function<void(Callback<T>)> attempt,
                                              Callback<T> done) {
  if (options_.instance_id.empty()) return attempt(std::move(done));  // No other instance.
  attempt([this, attempt, done = std::move(done)](absl::StatusOr<T> result) {
    if (!FencedAway(result.status())) return done(std::move(result));
    // Not inline: the failure may be reported under the store's completion.
    scheduler_->Schedule(clock_->Now(), [attempt, done] { attempt(done); });
  });
}

}  // namespace tcc
