#include "tests/sim/sim_initiator.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "tcc/common/status_macros.h"
#include "tcc/sdk/decision.h"

namespace tcc::sim {
namespace {

using sdk::LocalTx;
using sdk::SqlValue;

constexpr int kMaxAttempts = 4;
constexpr absl::Duration kCallTimeout = absl::Seconds(2);

bool SaysNothing(const absl::Status& status) {
  return absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status) ||
         absl::IsResourceExhausted(status);
}

}  // namespace

absl::StatusOr<std::unique_ptr<SimInitiatorService>> SimInitiatorService::Open(
    bool unfenced_status) {
  sdk::SqliteOptions options;
  options.synchronous_full = false;
  TCC_ASSIGN_OR_RETURN(std::unique_ptr<sdk::Database> db,
                       sdk::OpenSqliteDatabase(":memory:", options));
  TCC_RETURN_IF_ERROR(sdk::CreateDecisionTable(*db));
  TCC_RETURN_IF_ERROR(db->RunInTransaction([](LocalTx& tx) {
    return tx.Exec("CREATE TABLE orders (gid TEXT PRIMARY KEY, state TEXT NOT NULL)").status();
  }));
  return std::unique_ptr<SimInitiatorService>(
      new SimInitiatorService(std::move(db), unfenced_status));
}

absl::Status SimInitiatorService::CommitLocally(const std::string& gid) {
  return sdk::CommitLocally(
             *db_, gid,
             [&](LocalTx& tx) {
               return tx.Exec("INSERT INTO orders (gid, state) VALUES (?, 'paid')", {SqlValue(gid)})
                   .status();
             })
      .status();
}

absl::StatusOr<InitiatorAnswer> SimInitiatorService::QueryStatus(const std::string& gid) {
  if (unfenced_status_) {  // Planted bug: reads the orders, takes no fence.
    bool paid = false;
    TCC_RETURN_IF_ERROR(db_->RunInTransaction([&](LocalTx& tx) -> absl::Status {
      TCC_ASSIGN_OR_RETURN(std::vector<sdk::Row> rows,
                           tx.Query("SELECT 1 FROM orders WHERE gid = ?", {SqlValue(gid)}));
      paid = !rows.empty();
      return absl::OkStatus();
    }));
    return paid ? InitiatorAnswer::kCommitted : InitiatorAnswer::kRolledBack;
  }
  TCC_ASSIGN_OR_RETURN(sdk::LocalDecision decision, sdk::FenceOrReadDecision(*db_, gid));
  return decision == sdk::LocalDecision::kCommitted ? InitiatorAnswer::kCommitted
                                                    : InitiatorAnswer::kRolledBack;
}

absl::StatusOr<std::set<std::string>> SimInitiatorService::CommittedOrders() {
  std::set<std::string> gids;
  TCC_RETURN_IF_ERROR(db_->RunInTransaction([&](LocalTx& tx) -> absl::Status {
    TCC_ASSIGN_OR_RETURN(std::vector<sdk::Row> rows, tx.Query("SELECT gid FROM orders"));
    for (const sdk::Row& row : rows) gids.insert(row[0].AsText());
    return absl::OkStatus();
  }));
  return gids;
}

void SimFlow::Start() {
  loop_->At(loop_->start() + plan_.start, absl::StrCat("initiator starts ", plan_.gid), [this] {
    if (plan_.saga) return SubmitSaga();
    plan_.begin_in_try ? TryFrom(0) : Begin();
  });
}

template <typename T>
void SimFlow::Call(std::string what, Request<T> start, std::function<void(absl::StatusOr<T>)> done,
                   int attempt) {
  auto answered = [this, what, start, done, attempt](absl::StatusOr<T> result) {
    if (!result.ok() && SaysNothing(result.status()) && attempt < kMaxAttempts) {
      loop_->After(loop_->Between(absl::Milliseconds(50), absl::Milliseconds(500)),
                   absl::StrCat(what, " retry"),
                   [this, what, start, done, attempt] { Call<T>(what, start, done, attempt + 1); });
      return;
    }
    done(std::move(result));
  };
  auto once = std::make_shared<Once<absl::StatusOr<T>>>(std::move(answered));
  loop_->After(kCallTimeout, absl::StrCat("deadline ", what), [once] {
    once->Answer(absl::DeadlineExceededError("no answer from the coordinator"));
  });
  network_->Send(kCoordinatorNode, absl::StrCat(what, " -> coordinator"),
                 [this, what, start, once] {
                   TransactionEngine* engine = coordinator_->engine();
                   if (engine == nullptr) {
                     loop_->Note("  dropped: the coordinator is down");
                     return;
                   }
                   start(*engine, [this, what, once](absl::StatusOr<T> result) {
                     network_->Send(plan_.node, absl::StrCat(what, " reply"),
                                    [once, result] { once->Answer(result); });
                   });
                 });
}

void SimFlow::Begin() {
  BeginParams params{
      .gid = plan_.gid, .timeout_ms = plan_.timeout_ms, .status_endpoint = plan_.endpoint};
  Call<BeginResult>(
      absl::StrCat("Begin ", plan_.gid),
      [params](TransactionEngine& engine, TransactionEngine::Callback<BeginResult> done) {
        engine.Begin(params, std::move(done));
      },
      [this](absl::StatusOr<BeginResult> begun) {
        if (!begun.ok()) return End(absl::StrCat("Begin failed: ", begun.status().ToString()));
        TryFrom(0);
      });
}

void SimFlow::SubmitSaga() {
  SagaParams params{.gid = plan_.gid, .steps = plan_.branches, .concurrent = plan_.concurrent};
  Call<SagaResult>(
      absl::StrCat("SubmitSaga ", plan_.gid),
      [params](TransactionEngine& engine, TransactionEngine::Callback<SagaResult> done) {
        engine.SubmitSaga(params, std::move(done));
      },
      [this](absl::StatusOr<SagaResult> submitted) {
        if (!submitted.ok()) {
          return End(absl::StrCat("SubmitSaga failed: ", submitted.status().ToString()));
        }
        End(absl::StrCat("saga accepted in state ", TxStateName(submitted->state)));
      });
}

void SimFlow::TryFrom(size_t next) {
  if (next >= plan_.branches.size()) {
    loop_->After(plan_.pause, absl::StrCat("initiator decides ", plan_.gid), [this] { Decide(); });
    return;
  }
  std::vector<Branch> branches;
  size_t end = plan_.try_one_by_one ? next + 1 : plan_.branches.size();
  for (size_t i = next; i < end; ++i) branches.push_back(plan_.branches[i]);
  using Outcomes = TryAnswer;
  // The first Try of a flow without Begin begins the GT (every attempt of
  // it: a retry after a lost answer may find it created).
  std::optional<BeginParams> begin;
  if (plan_.begin_in_try && next == 0) {
    begin = BeginParams{
        .gid = plan_.gid, .timeout_ms = plan_.timeout_ms, .status_endpoint = plan_.endpoint};
  }
  Call<Outcomes>(
      absl::StrCat(begin ? "BeginAndTry " : "Try ", plan_.gid, " from ",
                   plan_.branches[next].branch_id),
      [gid = plan_.gid, branches, begin](TransactionEngine& engine,
                                         TransactionEngine::Callback<Outcomes> done) {
        if (begin) return engine.BeginAndTry(*begin, branches, std::move(done));
        engine.Try(gid, branches, std::move(done));
      },
      [this, end](absl::StatusOr<Outcomes> outcomes) {
        if (!outcomes.ok()) {
          try_failed_ = true;
          if (SaysNothing(outcomes.status())) return End("gave up in Try");
          return Decide();
        }
        for (const BranchTryOutcome& outcome : outcomes->outcomes) {
          if (outcome.outcome != CallOutcome::kSuccess) try_failed_ = true;
        }
        if (try_failed_) return Decide();
        TryFrom(end);
      });
}

void SimFlow::Decide() {
  if (plan_.want_rollback || try_failed_) return SendDecision(Decision::kRollback);
  if (plan_.crash == FlowPlan::Crash::kBeforeLocalCommit) return End("crashed before local commit");
  if (plan_.endpoint.empty()) {
    if (plan_.crash == FlowPlan::Crash::kAfterLocalCommit) return End("crashed before Commit");
    return SendDecision(Decision::kCommit);
  }
  CommitLocallyThenDecide();
}

void SimFlow::CommitLocallyThenDecide() {
  absl::Status local = service_->CommitLocally(plan_.gid);
  if (absl::IsFailedPrecondition(local)) {
    record_.fenced = true;
    loop_->Note(absl::StrCat("initiator: local commit of ", plan_.gid, " fenced"));
    return SendDecision(Decision::kRollback);
  }
  if (!local.ok()) return End(absl::StrCat("local commit failed: ", local.ToString()));
  record_.local_commit = true;
  loop_->Note(absl::StrCat("initiator: committed ", plan_.gid, " locally"));
  if (plan_.crash == FlowPlan::Crash::kAfterLocalCommit) return End("crashed after local commit");
  SendDecision(Decision::kCommit);
}

void SimFlow::SendDecision(Decision decision) {
  bool commit = decision == Decision::kCommit;
  Call<TxState>(
      absl::StrCat(commit ? "Commit " : "Rollback ", plan_.gid),
      [gid = plan_.gid, decision](TransactionEngine& engine,
                                  TransactionEngine::Callback<TxState> done) {
        engine.Decide(gid, decision, std::move(done));
      },
      [this, decision](absl::StatusOr<TxState> state) {
        if (!state.ok()) return End(absl::StrCat("decision failed: ", state.status().ToString()));
        record_.acknowledged = decision;
        End(absl::StrCat("acknowledged in state ", TxStateName(*state)));
      });
}

void SimFlow::End(std::string how) {
  loop_->Note(absl::StrCat("initiator ", plan_.gid, ": ", how));
  record_.ended = std::move(how);
}

}  // namespace tcc::sim
