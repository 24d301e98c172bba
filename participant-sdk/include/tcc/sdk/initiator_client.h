// InitiatorClient: what the service that starts a global transaction (GT)
// uses to talk to the coordinator (tcc.v1.Coordinator): Begin, Try one or
// several branches, Commit or Rollback, Get; plus CommitWithLocalTransaction
// for an initiator with writes of its own, and TransactionGuard, which rolls
// back a GT left undecided. Sagas: SubmitSaga and GetSaga.
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

  absl::StatusOr<tcc::v1::BeginReply> Begin(const BeginParams& params);
  // Begin, and a guard that rolls the GT back unless it gets decided.
  absl::StatusOr<TransactionGuard> BeginGuarded(const BeginParams& params);

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

 private:
  friend class TransactionGuard;
  class Impl;

  // As above; sets *committed_locally once the local commit is durable.
  absl::StatusOr<LocalCommitResult> CommitLocallyThenCommit(
      Database& db, std::string_view gid, absl::FunctionRef<absl::Status(LocalTx&)> fn,
      bool* committed_locally);

  std::unique_ptr<Impl> impl_;
};

// Owns the decision of one GT: unless Commit, Rollback, a local commit or
// Release happened, the destructor sends Rollback (blocking, retried, and
// logged if it fails: the coordinator's timeout then resolves the GT). The
// client must outlive the guard. A
// failed Commit leaves the guard undecided, so it rolls back; a local commit
// that succeeded never does, even if Commit failed afterwards.
class TransactionGuard {
 public:
  TransactionGuard(InitiatorClient& client, std::string gid);
  ~TransactionGuard();
  TransactionGuard(TransactionGuard&& other) noexcept;
  TransactionGuard& operator=(TransactionGuard&&) = delete;
  TransactionGuard(const TransactionGuard&) = delete;
  TransactionGuard& operator=(const TransactionGuard&) = delete;

  const std::string& gid() const { return gid_; }
  bool decided() const { return decided_; }

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
};

}  // namespace tcc::sdk
