#include "tests/sim/sim_participant.h"

#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tcc/common/status_macros.h"
#include "tcc/sdk/barrier.h"

namespace tcc::sim {
namespace {

using sdk::LocalTx;
using sdk::SqlValue;

constexpr char kSchema[] =
    "CREATE TABLE holds (gid TEXT NOT NULL, branch_id TEXT NOT NULL, state TEXT NOT NULL,"
    " PRIMARY KEY (gid, branch_id));"
    "CREATE TABLE handler_log (gid TEXT NOT NULL, branch_id TEXT NOT NULL, op TEXT NOT NULL)";

sdk::BranchRequest RequestOf(const BranchCall& call) {
  sdk::BranchRequest request;
  request.set_gid(call.gid);
  request.set_branch_id(call.branch_id);
  request.set_action(call.action);
  request.set_payload(call.payload);
  return request;
}

CallResult ResultOf(const absl::StatusOr<sdk::BarrierAnswer>& answer) {
  if (!answer.ok()) return {CallOutcome::kUnknown, std::string(answer.status().message())};
  if (answer->refused) return {CallOutcome::kRefused, answer->reason};
  return {CallOutcome::kSuccess, ""};
}

}  // namespace

absl::StatusOr<std::unique_ptr<SimParticipant>> SimParticipant::Open(SimLoop* loop,
                                                                     bool naive_cancel) {
  sdk::SqliteOptions options;
  options.synchronous_full = false;
  TCC_ASSIGN_OR_RETURN(std::unique_ptr<sdk::Database> db,
                       sdk::OpenSqliteDatabase(":memory:", options));
  TCC_RETURN_IF_ERROR(sdk::CreateBarrierTable(*db));
  TCC_RETURN_IF_ERROR(db->RunInTransaction([](LocalTx& tx) -> absl::Status {
    for (absl::string_view statement : absl::StrSplit(kSchema, ';')) {
      TCC_RETURN_IF_ERROR(tx.Exec(std::string(statement)).status());
    }
    return absl::OkStatus();
  }));
  return std::unique_ptr<SimParticipant>(new SimParticipant(loop, std::move(db), naive_cancel));
}

absl::Status SimParticipant::MaybeFail(const char* handler) {
  if (!loop_->Chance(handler_failure_)) return absl::OkStatus();
  loop_->Note(absl::StrCat("participant: ", handler, " handler fails (injected)"));
  return absl::UnavailableError(absl::StrCat("simulated ", handler, " failure"));
}

absl::Status SimParticipant::Log(LocalTx& tx, const BranchCall& call, const char* op) {
  return tx
      .Exec("INSERT INTO handler_log (gid, branch_id, op) VALUES (?, ?, ?)",
            {SqlValue(call.gid), SqlValue(call.branch_id), SqlValue(op)})
      .status();
}

CallResult SimParticipant::Handle(const BranchCall& call) {
  sdk::BranchRequest request = RequestOf(call);
  auto on_try = [&](LocalTx& tx, const sdk::BranchRequest&) -> sdk::TryResult {
    TCC_RETURN_IF_ERROR(MaybeFail("try"));
    if (call.payload == kRefusePayload) return sdk::TryOutcome::Refused("not enough points");
    TCC_RETURN_IF_ERROR(Log(tx, call, "try"));
    TCC_RETURN_IF_ERROR(tx.Exec("INSERT INTO holds (gid, branch_id, state) VALUES (?, ?, 'held')",
                                {SqlValue(call.gid), SqlValue(call.branch_id)})
                            .status());
    return sdk::TryOutcome::Reserved();
  };
  auto on_confirm = [&](LocalTx& tx, const sdk::BranchRequest&) -> absl::Status {
    TCC_RETURN_IF_ERROR(MaybeFail("confirm"));
    TCC_RETURN_IF_ERROR(Log(tx, call, "confirm"));
    return tx
        .Exec("UPDATE holds SET state = 'spent' WHERE gid = ? AND branch_id = ?",
              {SqlValue(call.gid), SqlValue(call.branch_id)})
        .status();
  };
  auto on_cancel = [&](LocalTx& tx, const sdk::BranchRequest&) -> absl::Status {
    TCC_RETURN_IF_ERROR(MaybeFail("cancel"));
    TCC_RETURN_IF_ERROR(Log(tx, call, "cancel"));
    return tx
        .Exec("UPDATE holds SET state = 'released' WHERE gid = ? AND branch_id = ?",
              {SqlValue(call.gid), SqlValue(call.branch_id)})
        .status();
  };
  switch (call.phase) {
    case Phase::kTry:
      return ResultOf(sdk::RunTry(*db_, request, on_try));
    case Phase::kConfirm:
      return ResultOf(sdk::RunConfirm(*db_, request, on_confirm));
    case Phase::kCancel:
      if (naive_cancel_) {  // Planted bug: no barrier row for the Cancel.
        absl::Status done =
            db_->RunInTransaction([&](LocalTx& tx) { return on_cancel(tx, request); });
        if (!done.ok()) return {CallOutcome::kUnknown, std::string(done.message())};
        return {CallOutcome::kSuccess, ""};
      }
      return ResultOf(sdk::RunCancel(*db_, request, on_cancel));
  }
  return {CallOutcome::kUnknown, "unknown phase"};
}

absl::StatusOr<std::vector<Hold>> SimParticipant::Holds() {
  std::map<std::pair<std::string, std::string>, Hold> holds;
  TCC_RETURN_IF_ERROR(db_->RunInTransaction([&](LocalTx& tx) -> absl::Status {
    TCC_ASSIGN_OR_RETURN(std::vector<sdk::Row> rows,
                         tx.Query("SELECT gid, branch_id, state FROM holds"));
    for (const sdk::Row& row : rows) {
      Hold& hold = holds[{row[0].AsText(), row[1].AsText()}];
      hold.state = row[2].AsText();
    }
    TCC_ASSIGN_OR_RETURN(rows, tx.Query("SELECT gid, branch_id, op FROM handler_log"));
    for (const sdk::Row& row : rows) {
      Hold& hold = holds[{row[0].AsText(), row[1].AsText()}];
      if (row[2].AsText() == "confirm") hold.confirmed = true;
      if (row[2].AsText() == "cancel") hold.cancelled = true;
    }
    return absl::OkStatus();
  }));
  std::vector<Hold> result;
  for (auto& [key, hold] : holds) {
    hold.gid = key.first;
    hold.branch_id = key.second;
    result.push_back(std::move(hold));
  }
  return result;
}

}  // namespace tcc::sim
