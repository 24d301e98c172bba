#include "tcc/sdk/initiator_client.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <functional>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "participant-sdk/src/absl_compat.h"
#include "participant-sdk/src/ids.h"
#include "tcc/common/grpc_status.h"
#include "tcc/common/notification.h"
#include "tcc/common/status_macros.h"

namespace tcc::sdk {
namespace {

using tcc::v1::TransactionState;

bool IsTransient(const absl::Status& status) {
  return absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status);
}

// Uniform in [d/2, d]: spreads the retries of many clients.
absl::Duration Jitter(absl::Duration d) {
  thread_local std::mt19937_64 rng(std::random_device{}());
  std::uniform_real_distribution<double> factor(0.5, 1.0);
  return d * factor(rng);
}

absl::Status Annotate(const absl::Status& status, std::string_view method, int attempts) {
  return absl::Status(status.code(), absl::StrCat("coordinator ", internal::ToAbsl(method), " (",
                                                  attempts, " attempt(s)): ", status.message()));
}

bool HasAllBranchIds(const std::vector<tcc::v1::BranchSpec>& branches) {
  return std::all_of(branches.begin(), branches.end(),
                     [](const tcc::v1::BranchSpec& b) { return !b.branch_id().empty(); });
}

// Begin's request for `params` under `gid`, checked.
absl::StatusOr<tcc::v1::BeginRequest> BeginRequestOf(const BeginParams& params,
                                                     const std::string& gid) {
  TCC_RETURN_IF_ERROR(internal::ValidateGid(gid));
  if (params.timeout < absl::ZeroDuration() || params.timeout > absl::Hours(24 * 30)) {
    return absl::InvalidArgumentError("BeginParams.timeout must be between 0 and 30 days");
  }
  tcc::v1::BeginRequest request;
  request.set_gid(gid);
  request.set_timeout_ms(static_cast<uint32_t>(absl::ToInt64Milliseconds(params.timeout)));
  request.set_status_endpoint(params.status_endpoint);
  return request;
}

// What CommitWithLocalTransaction needs before it commits locally.
absl::Status CheckCommittable(const tcc::v1::Transaction& gt) {
  if (gt.state() == tcc::v1::TRANSACTION_STATE_COMMITTING ||
      gt.state() == tcc::v1::TRANSACTION_STATE_COMMITTED) {
    return absl::OkStatus();  // A repeated call: the decision stands.
  }
  if (gt.state() != tcc::v1::TRANSACTION_STATE_TRYING) {
    return absl::FailedPreconditionError(absl::StrCat("transaction ", gt.gid(), " is ",
                                                      TransactionState_Name(gt.state()),
                                                      "; it can no longer commit"));
  }
  if (gt.status_endpoint().empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "transaction ", gt.gid(),
        " has no status endpoint: a local commit could not be fenced against the coordinator's "
        "timeout rollback; Begin it with status_endpoint"));
  }
  for (const tcc::v1::Branch& b : gt.branches()) {
    if (b.state() != tcc::v1::BRANCH_STATE_TRIED) {
      return absl::FailedPreconditionError(
          absl::StrCat("transaction ", gt.gid(), ": branch ", b.branch_id(), " is ",
                       tcc::v1::BranchState_Name(b.state()), ", not TRIED; roll back instead"));
    }
  }
  return absl::OkStatus();
}

bool Compensates(TransactionState state) {
  return state == tcc::v1::TRANSACTION_STATE_COMPENSATING ||
         state == tcc::v1::TRANSACTION_STATE_ROLLED_BACK;
}

// The saga's state and, once it compensates, why, and which step refused.
SagaOutcome OutcomeOf(const tcc::v1::Transaction& saga) {
  SagaOutcome outcome;
  outcome.gid = saga.gid();
  outcome.state = saga.state();
  if (!Compensates(saga.state())) return outcome;
  outcome.reason = saga.decision_reason();
  for (const tcc::v1::Branch& step : saga.branches()) {
    if (step.state() != tcc::v1::BRANCH_STATE_TRY_REFUSED) continue;
    outcome.refused_step = step.branch_id();
    outcome.refusal = step.last_error();
    break;
  }
  return outcome;
}

absl::StatusOr<tcc::v1::SubmitSagaRequest> MakeSagaRequest(SagaParams params) {
  tcc::v1::SubmitSagaRequest request;
  // A gid chosen here keeps a retried submit from starting a second saga.
  request.set_gid(params.gid.empty() ? internal::NewGid() : std::move(params.gid));
  TCC_RETURN_IF_ERROR(internal::ValidateGid(request.gid()));
  if (params.steps.empty()) return absl::InvalidArgumentError("a saga needs at least one step");
  if (params.wait_for_result < absl::ZeroDuration() || params.wait_for_result > absl::Hours(24)) {
    return absl::InvalidArgumentError("SagaParams.wait_for_result must be between 0 and 24 h");
  }
  for (tcc::v1::SagaStep& step : params.steps) *request.add_steps() = std::move(step);
  request.set_concurrent(params.concurrent);
  if (params.wait_for_result > absl::ZeroDuration()) {
    request.set_wait_for_result(true);
    // 0 would mean the coordinator's default (30 s), not "at once".
    request.set_wait_timeout_ms(static_cast<uint32_t>(
        std::max<int64_t>(1, absl::ToInt64Milliseconds(params.wait_for_result))));
  }
  return request;
}

// "TRYING" for TRANSACTION_STATE_TRYING: the name operators see in tccctl.
std::string ShortName(TransactionState state) {
  std::string name = TransactionState_Name(state);
  constexpr std::string_view kPrefix = "TRANSACTION_STATE_";
  if (name.rfind(kPrefix, 0) == 0) name.erase(0, kPrefix.size());
  return name;
}

bool Decided(TransactionState state) {
  return state == tcc::v1::TRANSACTION_STATE_COMMITTING ||
         state == tcc::v1::TRANSACTION_STATE_COMMITTED ||
         state == tcc::v1::TRANSACTION_STATE_ROLLING_BACK ||
         state == tcc::v1::TRANSACTION_STATE_ROLLED_BACK;
}

absl::Status CheckRequest(const TransactionRequest& request) {
  if (request.begin.gid.empty()) {
    return absl::InvalidArgumentError(
        "TransactionRequest.begin.gid is required: it is the request's idempotency key (e.g. "
        "derived from your client's request id)");
  }
  TCC_RETURN_IF_ERROR(internal::ValidateGid(request.begin.gid));
  if (request.branches.empty()) {
    return absl::InvalidArgumentError("TransactionRequest needs at least one branch");
  }
  if (!HasAllBranchIds(request.branches)) {
    return absl::InvalidArgumentError(
        "every branch of a TransactionRequest needs a branch_id, so that a repeated request "
        "re-drives the same branches");
  }
  if (request.local_writes &&
      (request.local_db == nullptr || request.begin.status_endpoint.empty())) {
    return absl::InvalidArgumentError(
        "TransactionRequest.local_writes needs local_db and begin.status_endpoint (the "
        "StatusEndpoint serving local_db)");
  }
  return absl::OkStatus();
}

// The refused branch: TRY_REFUSED until its Cancel; then CANCELLED, and the
// coordinator keeps the refusal as its last_error.
const tcc::v1::Branch* RefusedBranch(const tcc::v1::Transaction& gt) {
  for (const tcc::v1::Branch& b : gt.branches()) {
    if (b.state() == tcc::v1::BRANCH_STATE_TRY_REFUSED) return &b;
  }
  for (const tcc::v1::Branch& b : gt.branches()) {
    if (b.state() == tcc::v1::BRANCH_STATE_CANCELLED && !b.last_error().empty()) return &b;
  }
  return nullptr;
}

// A decided GT's outcome; UNAVAILABLE while it is undecided.
absl::StatusOr<TransactionOutcome> OutcomeOfGt(const tcc::v1::Transaction& gt) {
  if (!Decided(gt.state())) {
    return absl::UnavailableError(absl::StrCat(
        "transaction ", gt.gid(), " is still ", ShortName(gt.state()),
        " (a participant did not answer, or another delivery of this request is running); "
        "repeat the request with the same gid, or the coordinator's timeout resolves it"));
  }
  TransactionOutcome outcome;
  outcome.gid = gt.gid();
  outcome.replayed = true;
  outcome.state = gt.state();
  outcome.reason = gt.decision_reason();
  if (const tcc::v1::Branch* refused = RefusedBranch(gt);
      refused != nullptr && !outcome.committed()) {
    outcome.refused_branch = refused->branch_id();
    outcome.refusal = refused->last_error();
  }
  return outcome;
}

bool AnyRefused(const tcc::v1::TryReply& reply) {
  return std::any_of(
      reply.results().begin(), reply.results().end(),
      [](const tcc::v1::BranchTryResult& r) { return r.result() == tcc::v1::TRY_RESULT_REFUSED; });
}

// The W3C trace context travels as gRPC metadata, as the coordinator reads it.
void AddTraceparent(grpc::ClientContext& ctx, const std::string& traceparent) {
  if (!traceparent.empty()) ctx.AddMetadata("traceparent", traceparent);
}

}  // namespace

bool AllTriesSucceeded(const tcc::v1::TryReply& reply) {
  return std::all_of(reply.results().begin(), reply.results().end(),
                     [](const tcc::v1::BranchTryResult& r) {
                       return r.result() == tcc::v1::TRY_RESULT_SUCCEEDED;
                     });
}

class InitiatorClient::Impl {
 public:
  Impl(std::shared_ptr<grpc::Channel> channel, InitiatorClientOptions options)
      : stub_(tcc::v1::Coordinator::NewStub(std::move(channel))), options_(options) {}

  const InitiatorClientOptions& options() const { return options_; }

  absl::StatusOr<tcc::v1::BeginReply> Begin(const tcc::v1::BeginRequest& request,
                                            const std::string& traceparent) {
    return Call<tcc::v1::BeginRequest, tcc::v1::BeginReply>(
        "Begin", request, true, [this, &traceparent](auto* ctx, auto* req, auto* reply, auto done) {
          AddTraceparent(*ctx, traceparent);
          stub_->async()->Begin(ctx, req, reply, std::move(done));
        });
  }

  absl::StatusOr<tcc::v1::TryReply> Try(const tcc::v1::TryRequest& request, bool retryable,
                                        const std::string& traceparent = "") {
    return Call<tcc::v1::TryRequest, tcc::v1::TryReply>(
        "Try", request, retryable,
        [this, &traceparent](auto* ctx, auto* req, auto* reply, auto done) {
          AddTraceparent(*ctx, traceparent);
          stub_->async()->Try(ctx, req, reply, std::move(done));
        });
  }

  absl::StatusOr<tcc::v1::DecideReply> Commit(const tcc::v1::DecideRequest& request) {
    return Call<tcc::v1::DecideRequest, tcc::v1::DecideReply>(
        "Commit", request, true, [this](auto* ctx, auto* req, auto* reply, auto done) {
          stub_->async()->Commit(ctx, req, reply, std::move(done));
        });
  }

  absl::StatusOr<tcc::v1::DecideReply> Rollback(const tcc::v1::DecideRequest& request) {
    return Call<tcc::v1::DecideRequest, tcc::v1::DecideReply>(
        "Rollback", request, true, [this](auto* ctx, auto* req, auto* reply, auto done) {
          stub_->async()->Rollback(ctx, req, reply, std::move(done));
        });
  }

  absl::StatusOr<tcc::v1::Transaction> Get(const tcc::v1::GetTransactionRequest& request) {
    return Call<tcc::v1::GetTransactionRequest, tcc::v1::Transaction>(
        "GetTransaction", request, true, [this](auto* ctx, auto* req, auto* reply, auto done) {
          stub_->async()->GetTransaction(ctx, req, reply, std::move(done));
        });
  }

  // `wait` is how long the coordinator may hold the answer back.
  absl::StatusOr<tcc::v1::SubmitSagaReply> SubmitSaga(const tcc::v1::SubmitSagaRequest& request,
                                                      absl::Duration wait,
                                                      const std::string& traceparent) {
    return Call<tcc::v1::SubmitSagaRequest, tcc::v1::SubmitSagaReply>(
        "SubmitSaga", request, true,
        [this, &traceparent](auto* ctx, auto* req, auto* reply, auto done) {
          AddTraceparent(*ctx, traceparent);
          stub_->async()->SubmitSaga(ctx, req, reply, std::move(done));
        },
        wait);
  }

 private:
  template <typename Request, typename Reply>
  using Starter = std::function<void(grpc::ClientContext*, const Request*, Reply*,
                                     std::function<void(grpc::Status)>)>;

  template <typename Request, typename Reply>
  absl::StatusOr<Reply> Call(std::string_view method, const Request& request, bool retryable,
                             Starter<Request, Reply> start,
                             absl::Duration extra_wait = absl::ZeroDuration()) {
    absl::Duration backoff = options_.initial_backoff;
    for (int attempt = 1;; ++attempt) {
      Reply reply;
      absl::Status status =
          Attempt<Request, Reply>(request, &reply, start, options_.call_timeout + extra_wait);
      if (status.ok()) return reply;
      if (!retryable || !IsTransient(status) || attempt >= options_.max_attempts) {
        return Annotate(status, method, attempt);
      }
      absl::SleepFor(Jitter(backoff));
      backoff = std::min(backoff * 2, options_.max_backoff);
    }
  }

  template <typename Request, typename Reply>
  absl::Status Attempt(const Request& request, Reply* reply, const Starter<Request, Reply>& start,
                       absl::Duration timeout) {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
    if (!options_.token.empty()) ctx.AddMetadata("authorization", "Bearer " + options_.token);
    tcc::Notification done;
    grpc::Status status;
    start(&ctx, &request, reply, [&](grpc::Status s) {
      status = std::move(s);
      done.Notify();
    });
    done.WaitForNotification();
    return FromGrpcStatus(status);
  }

  std::unique_ptr<tcc::v1::Coordinator::Stub> stub_;
  const InitiatorClientOptions options_;
};

InitiatorClient::InitiatorClient(std::shared_ptr<grpc::Channel> channel,
                                 InitiatorClientOptions options)
    : impl_(std::make_unique<Impl>(std::move(channel), options)) {}

InitiatorClient::~InitiatorClient() = default;

absl::StatusOr<std::unique_ptr<InitiatorClient>> InitiatorClient::Connect(
    std::string_view address, const TlsOptions& tls, InitiatorClientOptions options) {
  TCC_ASSIGN_OR_RETURN(std::shared_ptr<grpc::ChannelCredentials> credentials,
                       MakeChannelCredentials(tls));
  return std::make_unique<InitiatorClient>(
      grpc::CreateChannel(std::string(address), std::move(credentials)), options);
}

absl::StatusOr<tcc::v1::BeginReply> InitiatorClient::Begin(const BeginParams& params) {
  // A gid chosen here, not by the coordinator, keeps a retried Begin from
  // creating a second GT.
  TCC_ASSIGN_OR_RETURN(
      tcc::v1::BeginRequest request,
      BeginRequestOf(params, params.gid.empty() ? internal::NewGid() : params.gid));
  return impl_->Begin(request, params.traceparent);
}

absl::StatusOr<tcc::v1::TryReply> InitiatorClient::BeginAndTry(
    const BeginParams& params, std::vector<tcc::v1::BranchSpec> branches) {
  if (params.gid.empty()) return absl::InvalidArgumentError("BeginAndTry needs BeginParams.gid");
  if (branches.empty()) return absl::InvalidArgumentError("Try needs at least one branch");
  tcc::v1::TryRequest request;
  TCC_ASSIGN_OR_RETURN(*request.mutable_begin(), BeginRequestOf(params, params.gid));
  request.set_gid(params.gid);
  bool retryable = HasAllBranchIds(branches);
  for (tcc::v1::BranchSpec& b : branches) *request.add_branches() = std::move(b);
  absl::StatusOr<tcc::v1::TryReply> tried = impl_->Try(request, retryable, params.traceparent);
  if (!absl::IsNotFound(tried.status())) return tried;
  // A coordinator older than TryRequest.begin ignored it: Begin, then the
  // same request without `begin` as a plain Try.
  TCC_RETURN_IF_ERROR(Begin(params).status());
  request.clear_begin();
  return impl_->Try(request, retryable, params.traceparent);
}

absl::StatusOr<TransactionGuard> InitiatorClient::BeginGuarded(const BeginParams& params) {
  TCC_ASSIGN_OR_RETURN(tcc::v1::BeginReply reply, Begin(params));
  return TransactionGuard(*this, reply);
}

absl::StatusOr<tcc::v1::TryReply> InitiatorClient::Try(std::string_view gid,
                                                       std::vector<tcc::v1::BranchSpec> branches) {
  TCC_RETURN_IF_ERROR(internal::ValidateGid(gid));
  if (branches.empty()) return absl::InvalidArgumentError("Try needs at least one branch");
  bool retryable = HasAllBranchIds(branches);
  tcc::v1::TryRequest request;
  request.set_gid(std::string(gid));
  for (tcc::v1::BranchSpec& b : branches) *request.add_branches() = std::move(b);
  return impl_->Try(request, retryable);
}

absl::StatusOr<TransactionState> InitiatorClient::Commit(std::string_view gid) {
  TCC_RETURN_IF_ERROR(internal::ValidateGid(gid));
  tcc::v1::DecideRequest request;
  request.set_gid(std::string(gid));
  TCC_ASSIGN_OR_RETURN(tcc::v1::DecideReply reply, impl_->Commit(request));
  return reply.state();
}

absl::StatusOr<TransactionState> InitiatorClient::Rollback(std::string_view gid) {
  TCC_RETURN_IF_ERROR(internal::ValidateGid(gid));
  tcc::v1::DecideRequest request;
  request.set_gid(std::string(gid));
  TCC_ASSIGN_OR_RETURN(tcc::v1::DecideReply reply, impl_->Rollback(request));
  return reply.state();
}

absl::StatusOr<tcc::v1::Transaction> InitiatorClient::Get(std::string_view gid) {
  TCC_RETURN_IF_ERROR(internal::ValidateGid(gid));
  tcc::v1::GetTransactionRequest request;
  request.set_gid(std::string(gid));
  return impl_->Get(request);
}

absl::StatusOr<TransactionOutcome> InitiatorClient::Outcome(std::string_view gid) {
  TCC_ASSIGN_OR_RETURN(tcc::v1::Transaction gt, Get(gid));
  return OutcomeOfGt(gt);
}

absl::StatusOr<TransactionOutcome> InitiatorClient::RunTransaction(
    const TransactionRequest& request) {
  TCC_RETURN_IF_ERROR(CheckRequest(request));
  const std::string& gid = request.begin.gid;
  absl::StatusOr<tcc::v1::TryReply> tried = BeginAndTry(request.begin, request.branches);
  // An earlier run of this request, or a duplicate running concurrently,
  // decided it: answer what it answered.
  if (absl::IsFailedPrecondition(tried.status())) return Outcome(gid);
  TCC_RETURN_IF_ERROR(tried.status());
  if (AnyRefused(*tried)) return RollBackAndResolve(gid);
  if (!AllTriesSucceeded(*tried)) return Outcome(gid);  // UNAVAILABLE: still TRYING
  return CommitAndResolve(request, tried->committable());
}

absl::StatusOr<TransactionOutcome> InitiatorClient::RollBackAndResolve(std::string_view gid) {
  absl::StatusOr<TransactionState> state = Rollback(gid);
  if (!state.ok() && !absl::IsFailedPrecondition(state.status())) return state.status();
  TCC_ASSIGN_OR_RETURN(TransactionOutcome outcome, Outcome(gid));
  outcome.replayed = !state.ok();  // refused: a duplicate decided first
  return outcome;
}

absl::StatusOr<TransactionOutcome> InitiatorClient::CommitAndResolve(
    const TransactionRequest& request, bool committable) {
  const std::string& gid = request.begin.gid;
  TransactionOutcome outcome;
  outcome.gid = gid;
  if (!request.local_writes) {
    absl::StatusOr<TransactionState> state = Commit(gid);
    if (absl::IsFailedPrecondition(state.status())) return Outcome(gid);
    TCC_RETURN_IF_ERROR(state.status());
    outcome.state = *state;
    return outcome;
  }
  absl::Status writes = absl::OkStatus();
  bool committed_locally = false;
  absl::StatusOr<LocalCommitResult> committed = CommitLocallyThenCommit(
      *request.local_db, gid,
      [&](LocalTx& tx) {
        writes = request.local_writes(tx);
        return writes;
      },
      committable, &committed_locally);
  if (!writes.ok()) {
    // Our own writes said no: nothing was written; undo the branches.
    TCC_RETURN_IF_ERROR(RollBackAndResolve(gid).status());
    return writes;
  }
  // Not committable (a duplicate decided, or the back-query fenced us).
  if (absl::IsFailedPrecondition(committed.status()) && !committed_locally) return Outcome(gid);
  TCC_RETURN_IF_ERROR(committed.status());
  outcome.replayed = committed->local == LocalCommit::kAlreadyCommitted;
  outcome.state = committed->state;
  return outcome;
}

absl::StatusOr<SagaOutcome> InitiatorClient::SubmitSaga(SagaParams params) {
  absl::Duration wait = params.wait_for_result;
  std::string traceparent = params.traceparent;
  TCC_ASSIGN_OR_RETURN(tcc::v1::SubmitSagaRequest request, MakeSagaRequest(std::move(params)));
  TCC_ASSIGN_OR_RETURN(tcc::v1::SubmitSagaReply reply,
                       impl_->SubmitSaga(request, wait, traceparent));
  SagaOutcome outcome;
  outcome.state = reply.state();
  outcome.reason = reply.reason();
  if (Compensates(reply.state())) {
    // The reply gives the reason as text; the steps say which one refused
    // (and the state read now is at least as far along as the reply's).
    TCC_ASSIGN_OR_RETURN(outcome, GetSaga(reply.gid()));
  }
  outcome.gid = reply.gid();
  outcome.created = reply.created();
  return outcome;
}

absl::StatusOr<SagaOutcome> InitiatorClient::GetSaga(std::string_view gid) {
  TCC_ASSIGN_OR_RETURN(tcc::v1::Transaction saga, Get(gid));
  if (saga.mode() != "SAGA") {
    return absl::FailedPreconditionError(
        absl::StrCat("transaction ", saga.gid(), " is not a saga (mode ", saga.mode(), ")"));
  }
  return OutcomeOf(saga);
}

absl::StatusOr<LocalCommitResult> InitiatorClient::CommitWithLocalTransaction(
    Database& db, std::string_view gid, absl::FunctionRef<absl::Status(LocalTx&)> fn) {
  bool committed_locally = false;
  return CommitLocallyThenCommit(db, gid, fn, /*committable=*/false, &committed_locally);
}

absl::StatusOr<LocalCommitResult> InitiatorClient::CommitWithLocalTransaction(
    Database& db, std::string_view gid, const tcc::v1::TryReply& tried,
    absl::FunctionRef<absl::Status(LocalTx&)> fn) {
  bool committed_locally = false;
  return CommitLocallyThenCommit(db, gid, fn, tried.committable(), &committed_locally);
}

absl::StatusOr<LocalCommitResult> InitiatorClient::CommitLocallyThenCommit(
    Database& db, std::string_view gid, absl::FunctionRef<absl::Status(LocalTx&)> fn,
    bool committable, bool* committed_locally) {
  if (!committable) {
    TCC_ASSIGN_OR_RETURN(tcc::v1::Transaction gt, Get(gid));
    TCC_RETURN_IF_ERROR(CheckCommittable(gt));
  }
  const HookRegistry* hooks = impl_->options().hooks;
  LocalCommitResult result;
  TCC_ASSIGN_OR_RETURN(result.local, CommitLocally(db, gid, fn, hooks));
  *committed_locally = true;
  TCC_RETURN_IF_ERROR(RunHook(hooks, kHookAfterLocalCommit, gid));
  absl::StatusOr<TransactionState> state = Commit(gid);
  if (!state.ok()) {
    return absl::Status(state.status().code(),
                        absl::StrCat("committed locally, but ", state.status().message(),
                                     "; call again to re-send Commit (the status endpoint also "
                                     "tells the coordinator)"));
  }
  result.state = *state;
  return result;
}

}  // namespace tcc::sdk
