// InitiatorClient: what the service that starts a global transaction (GT)
// uses to talk to the coordinator (tcc.v1.Coordinator): Begin, Try one or
// several branches, Commit or Rollback, Get; plus CommitWithLocalTransaction
// for an initiator with writes of its own, and TransactionGuard, which rolls
// back a GT left undecided. Sagas: SubmitSaga and GetSaga.
//
// The easy path for a request handler is RunTransaction: one call that
// runs a request idempotently by its gid (your request id) and, when the
// request comes again after it finished, answers what the first run
// answered without trying anything again.
//
// Every call is blocking for the caller (made with gRPC's callback API and
// waited for), has a per-attempt deadline, and is retried with exponential
// backoff and jitter on UNAVAILABLE and DEADLINE_EXCEEDED, up to
// max_attempts. That is safe because the coordinator is idempotent by gid
// and branch id: Begin and SubmitSaga always send a gid (one is generated
// when you give none), and Try is retried only when every branch names its
// branch_id (otherwise a retry could register new branches). Errors are
// absl::Status with the coordinator's code and message.
//
// Thread-safety: an InitiatorClient may be shared by any number of threads.
// A TransactionGuard belongs to one thread at a time.
#pragma once

#include <grpcpp/channel.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tcc/common/tls.h"
#include "tcc/sdk/decision.h"
#include "tcc/sdk/hooks.h"
#include "tcc/sdk/local_db.h"
#include "tcc/v1/coordinator.grpc.pb.h"

namespace tcc::sdk {

struct InitiatorClientOptions {
  // Deadline of one attempt. Try waits for the participants' Tries.
  absl::Duration call_timeout = absl::Seconds(10);
  // Attempts per call, the first included, for transport errors.
  int max_attempts = 4;
  absl::Duration initial_backoff = absl::Milliseconds(50);
  absl::Duration max_backoff = absl::Seconds(2);
  // Bearer token for a coordinator that checks callers (tccd --auth_file):
  // sent as `authorization: Bearer <token>` on every call. Empty: none (the
  // client certificate, if any, identifies you).
  std::string token;
  // Optional hook points for tests; must outlive the client.
  const HookRegistry* hooks = nullptr;
};

struct BeginParams {
  // Your idempotency key; empty: the client generates one.
  std::string gid;
  // How long the GT may stay TRYING; zero: the coordinator's default.
  absl::Duration timeout = absl::ZeroDuration();
  // "host:port" of your StatusEndpoint, for the back-query. Required by
  // CommitWithLocalTransaction.
  std::string status_endpoint;
  // Your W3C trace context (https://www.w3.org/TR/trace-context/), e.g. the
  // traceparent of the request being served: sent to the coordinator as
  // gRPC metadata, which stores it with the GT and passes it to every
  // participant (as the header "traceparent") and back-query. Empty: none.
  // The coordinator ignores a malformed one.
  std::string traceparent;
};

// The result of CommitWithLocalTransaction.
struct LocalCommitResult {
  // kAlreadyCommitted: an earlier call had committed this gid locally; your
  // function did not run again, and Commit was re-sent.
  LocalCommit local = LocalCommit::kCommitted;
  // The GT's state after Commit (COMMITTING or COMMITTED).
  tcc::v1::TransactionState state = tcc::v1::TRANSACTION_STATE_UNSPECIFIED;
};

// A saga to submit (README "Saga mode").
struct SagaParams {
  // Your idempotency key; empty: the client generates one. Submitting a gid
  // again with the same steps returns that saga; with other steps the
  // coordinator answers ALREADY_EXISTS.
  std::string gid;
  // Run one after another in this order, unless `concurrent`. A step without
  // a step_id is named "s1", "s2", ... by its position.
  std::vector<tcc::v1::SagaStep> steps;
  // true: a step runs as soon as the steps in its depends_on completed.
  bool concurrent = false;
  // Zero: SubmitSaga returns once the saga is durable (usually RUNNING).
  // Otherwise the coordinator answers when the saga is final or, at the
  // latest, after this long with the state it is in then (the saga carries
  // on). Each attempt's deadline is this plus call_timeout. At most 24 h.
  absl::Duration wait_for_result = absl::ZeroDuration();
  // As BeginParams::traceparent.
  std::string traceparent;
};

// What became of a saga, as far as the coordinator knows.
struct SagaOutcome {
  std::string gid;
  // False when the gid existed already: this reports the earlier saga.
  bool created = false;
  // RUNNING or COMPENSATING until it is final: COMMITTED (every action
  // done) or ROLLED_BACK (every completed or in-doubt step compensated).
  tcc::v1::TransactionState state = tcc::v1::TRANSACTION_STATE_UNSPECIFIED;
  // Why it compensates, e.g. "step points refused: not enough points".
  std::string reason;
  // When a step's action was refused (a business "no"): that step's id and
  // the participant's reason, verbatim. Empty when none was refused, e.g.
  // when a step ran out of attempts (`reason` says so).
  std::string refused_step;
  std::string refusal;

  bool final() const {
    return state == tcc::v1::TRANSACTION_STATE_COMMITTED ||
           state == tcc::v1::TRANSACTION_STATE_ROLLED_BACK;
  }
};

// One request for RunTransaction.
struct TransactionRequest {
  // begin.gid is required: your idempotency key, e.g. "order-" + the
  // client's request id. Sending the same gid again is how a retried or
  // duplicated request finds the first one's GT.
  BeginParams begin;
  // Every branch must name its branch_id, so that a repeat re-drives the
  // same branches instead of adding new ones.
  std::vector<tcc::v1::BranchSpec> branches;
  // Optional writes of your own, committed in one local transaction with the
  // decision row (CommitWithLocalTransaction). Needs local_db, served by a
  // StatusEndpoint whose address is begin.status_endpoint.
  Database* local_db = nullptr;
  std::function<absl::Status(LocalTx&)> local_writes;
};

// What became of a TCC transaction: the answer RunTransaction gives, the
// first time and every time after.
struct TransactionOutcome {
  std::string gid;
  // True when an earlier run had decided the GT: nothing was tried now.
  bool replayed = false;
  // COMMITTING or COMMITTED (committed: the Confirms follow), or
  // ROLLING_BACK or ROLLED_BACK.
  tcc::v1::TransactionState state = tcc::v1::TRANSACTION_STATE_UNSPECIFIED;
  // When a branch's Try was refused (a business "no"): its branch id and the
  // participant's reason, verbatim. Empty otherwise.
  std::string refused_branch;
  std::string refusal;
  // The coordinator's decision reason, e.g. "rolled back by the initiator".
  std::string reason;

  bool committed() const {
    return state == tcc::v1::TRANSACTION_STATE_COMMITTING ||
           state == tcc::v1::TRANSACTION_STATE_COMMITTED;
  }
};

class TransactionGuard;

// True when every branch result is TRY_RESULT_SUCCEEDED.
bool AllTriesSucceeded(const tcc::v1::TryReply& reply);

class InitiatorClient {
 public:
  // A client of the coordinator at `address` ("host:port"), over TLS when
  // `tls` is enabled: ca_file verifies tccd's certificate, cert_file and
  // key_file answer tccd's --tls_client_ca (mutual TLS). INVALID_ARGUMENT
  // naming the file when one is unusable; no connection is made yet.
  static absl::StatusOr<std::unique_ptr<InitiatorClient>> Connect(
      std::string_view address, const TlsOptions& tls, InitiatorClientOptions options = {});

  explicit InitiatorClient(std::shared_ptr<grpc::Channel> channel,
                           InitiatorClientOptions options = {});
  ~InitiatorClient();

  // Runs one request idempotently by request.begin.gid:
  //   BeginAndTry (Begin folded into the Try of every branch); if the GT
  //   was decided already (an earlier run of this request), answer its
  //   outcome with replayed = true. A GT still TRYING from an earlier,
  //   interrupted run is continued (Try is idempotent by branch id); a
  //   refusal rolls back; all tried commits (with local_writes:
  //   CommitWithLocalTransaction, else Commit).
  // So a repeat after COMMITTED answers committed again without running
  // Try or local_writes; after a refusal, the same refused_branch and
  // refusal. A duplicate that runs concurrently ends with the same outcome.
  // Errors (the GT is left to a repeat, or to the coordinator's timeout):
  // INVALID_ARGUMENT for no gid, no branches, a branch without branch_id, or
  // local_writes without local_db or status_endpoint; UNAVAILABLE "... is
  // still TRYING ..." when a Try's outcome is unknown (a participant did not
  // answer) or the GT is undecided for another reason: repeat the request;
  // local_writes' own error (the GT is rolled back: a repeat then answers
  // ROLLED_BACK "rolled back by the initiator"); ALREADY_EXISTS when the gid
  // was begun with other parameters (keep timeout and status_endpoint the
  // same for every delivery of a request); the coordinator's errors.
  absl::StatusOr<TransactionOutcome> RunTransaction(const TransactionRequest& request);
  // The outcome of a decided GT (replayed = true); UNAVAILABLE "transaction
  // <gid> is still TRYING" while it is undecided; NOT_FOUND for an unknown gid.
  absl::StatusOr<TransactionOutcome> Outcome(std::string_view gid);

  absl::StatusOr<tcc::v1::BeginReply> Begin(const BeginParams& params);
  // Begin, and a guard that rolls the GT back unless it gets decided. The
  // guard tells whether Begin created the GT and the state it found: a GT
  // already decided (a repeated request) counts as decided, so the guard
  // never tries to roll it back; check guard.state() before Try.
  absl::StatusOr<TransactionGuard> BeginGuarded(const BeginParams& params);

  // Begin folded into the first Try (TryRequest.begin): an unknown
  // params.gid (required) is created with the branches in one call and one
  // durable write; a known one is tried as Try does. A decided one is
  // FAILED_PRECONDITION, as Try. Against a tccd older than the field
  // (NOT_FOUND), it sends Begin and then Try.
  absl::StatusOr<tcc::v1::TryReply> BeginAndTry(const BeginParams& params,
                                                std::vector<tcc::v1::BranchSpec> branches);
  absl::StatusOr<tcc::v1::TryReply> Try(std::string_view gid,
                                        std::vector<tcc::v1::BranchSpec> branches);
  absl::StatusOr<tcc::v1::TransactionState> Commit(std::string_view gid);
  absl::StatusOr<tcc::v1::TransactionState> Rollback(std::string_view gid);
  absl::StatusOr<tcc::v1::Transaction> Get(std::string_view gid);

  // Submits a saga and, with wait_for_result, waits for its outcome.
  // INVALID_ARGUMENT for a malformed gid or no steps (before any call) and
  // for steps the coordinator refuses (nothing is stored then). When the
  // saga compensates, it is read back once (GetTransaction) to fill
  // refused_step and refusal.
  absl::StatusOr<SagaOutcome> SubmitSaga(SagaParams params);
  // A saga's outcome now (GetTransaction); `created` is false. NOT_FOUND
  // for an unknown gid, FAILED_PRECONDITION for a TCC transaction's gid.
  absl::StatusOr<SagaOutcome> GetSaga(std::string_view gid);

  // For an initiator with local writes (DESIGN "TCC flow" step 4):
  //  1. checks with Get that the GT is TRYING with every branch tried, and
  //     has a status endpoint (without one the coordinator's timeout
  //     rollback could not be fenced);
  //  2. runs fn(tx) and inserts the decision row (gid, 'committed') in ONE
  //     local transaction of `db`, and commits it (CommitLocally);
  //  3. sends Commit to the coordinator.
  // Errors: fn's status (nothing written); FAILED_PRECONDITION "transaction
  // <gid> was rolled back by the coordinator's back-query; local changes
  // discarded" when the status endpoint fenced the gid first; or, after a
  // successful local commit, Commit's error. Calling it again with the same
  // gid is always safe: once committed locally, fn is not run again and only
  // Commit is re-sent. (Even if you never do, the coordinator learns the
  // decision from the status endpoint.)
  absl::StatusOr<LocalCommitResult> CommitWithLocalTransaction(
      Database& db, std::string_view gid, absl::FunctionRef<absl::Status(LocalTx&)> fn);
  // The same, given `tried`: the reply of the Try that named every branch
  // of the GT. When it says committable (a coordinator that sets the field
  // checked step 1 as the results became durable), the Get is skipped: one
  // call less per transaction. Otherwise exactly as above.
  absl::StatusOr<LocalCommitResult> CommitWithLocalTransaction(
      Database& db, std::string_view gid, const tcc::v1::TryReply& tried,
      absl::FunctionRef<absl::Status(LocalTx&)> fn);

 private:
  friend class TransactionGuard;
  class Impl;

  absl::StatusOr<TransactionOutcome> RollBackAndResolve(std::string_view gid);
  absl::StatusOr<TransactionOutcome> CommitAndResolve(const TransactionRequest& request,
                                                      bool committable);

  // As above (`committable`: the Try reply said so, no Get needed); sets
  // *committed_locally once the local commit is durable.
  absl::StatusOr<LocalCommitResult> CommitLocallyThenCommit(
      Database& db, std::string_view gid, absl::FunctionRef<absl::Status(LocalTx&)> fn,
      bool committable, bool* committed_locally);

  std::unique_ptr<Impl> impl_;
};

// Owns the decision of one GT: unless Commit, Rollback, a local commit or
// Release happened, the destructor sends Rollback (blocking, retried, and
// logged if it fails: the coordinator's timeout then resolves the GT). The
// client must outlive the guard. A
// failed Commit leaves the guard undecided, so it rolls back; a local commit
// that succeeded never does, even if Commit failed afterwards. A Rollback
// the coordinator refuses because the GT was committed meanwhile (a
// duplicate request committed it) is not an error: it is logged at info.
class TransactionGuard {
 public:
  TransactionGuard(InitiatorClient& client, std::string gid);
  // From Begin's reply: decided() from the start when the GT was past TRYING.
  TransactionGuard(InitiatorClient& client, const tcc::v1::BeginReply& begun);
  ~TransactionGuard();
  TransactionGuard(TransactionGuard&& other) noexcept;
  TransactionGuard& operator=(TransactionGuard&&) = delete;
  TransactionGuard(const TransactionGuard&) = delete;
  TransactionGuard& operator=(const TransactionGuard&) = delete;

  const std::string& gid() const { return gid_; }
  bool decided() const { return decided_; }
  // Whether Begin created the GT (false: the gid existed, e.g. a repeated
  // request), and the state Begin found it in. Only a TRYING GT takes Try.
  bool created() const { return created_; }
  tcc::v1::TransactionState state() const { return state_; }

  absl::StatusOr<tcc::v1::TryReply> Try(std::vector<tcc::v1::BranchSpec> branches);
  absl::StatusOr<tcc::v1::TransactionState> Commit();
  absl::StatusOr<tcc::v1::TransactionState> Rollback();
  absl::StatusOr<LocalCommitResult> CommitWithLocalTransaction(
      Database& db, absl::FunctionRef<absl::Status(LocalTx&)> fn);
  // Leaves the GT to the coordinator (timeout, back-query); no rollback.
  void Release() { decided_ = true; }

 private:
  InitiatorClient* client_;
  std::string gid_;
  bool decided_ = false;
  bool created_ = true;
  tcc::v1::TransactionState state_ = tcc::v1::TRANSACTION_STATE_TRYING;
};

}  // namespace tcc::sdk
