#include "coordinator/store/sqlite_rows.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "coordinator/store/headers_codec.h"
#include "tcc/common/status_macros.h"

namespace tcc::sqlite {

std::string JoinDependencies(const std::vector<std::string>& depends_on) {
  return absl::StrJoin(depends_on, ",");
}

std::vector<std::string> SplitDependencies(absl::string_view joined) {
  if (joined.empty()) return {};
  return absl::StrSplit(joined, ',');
}

absl::StatusOr<GlobalTransaction> ReadHeader(const Statement& row) {
  GlobalTransaction gt;
  gt.gid = row.Text(0);
  if (!IsValidTxState(static_cast<int>(row.Int(1)))) {
    return absl::DataLossError(
        absl::StrCat("stored transaction ", gt.gid, " has unknown state ", row.Int(1)));
  }
  gt.state = static_cast<TxState>(row.Int(1));
  gt.created_ms = row.Int(2);
  gt.updated_ms = row.Int(3);
  gt.timeout_ms = static_cast<uint32_t>(row.Int(4));
  gt.deadline_ms = row.Int(5);
  gt.status_endpoint = row.Text(6);
  gt.stuck = row.Int(7) != 0;
  gt.decision_reason = row.Text(8);
  gt.mode = row.Int(9) == static_cast<int>(TxMode::kSaga) ? TxMode::kSaga : TxMode::kTcc;
  return gt;
}

absl::Status LoadBranches(Database& db, GlobalTransaction& gt) {
  ASSIGN_OR_RETURN(auto stmt,
                   db.Prepare("SELECT branch_id, target, action, payload, headers, state, "
                              "attempts, last_error, next_retry_ms, depends_on, max_attempts, "
                              "timeout_ms FROM branches WHERE gid=? ORDER BY position"));
  stmt->Bind(1, gt.gid);
  while (true) {
    ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) return absl::OkStatus();
    Branch branch;
    branch.branch_id = stmt->Text(0);
    branch.target = stmt->Text(1);
    branch.action = stmt->Text(2);
    branch.payload = stmt->Text(3);
    ASSIGN_OR_RETURN(branch.headers, DecodeHeaders(stmt->Text(4)));
    if (!IsValidBranchState(static_cast<int>(stmt->Int(5)))) {
      return absl::DataLossError(absl::StrCat("stored branch ", branch.branch_id, " of ", gt.gid,
                                              " has unknown state ", stmt->Int(5)));
    }
    branch.state = static_cast<BranchState>(stmt->Int(5));
    branch.attempts = static_cast<uint32_t>(stmt->Int(6));
    branch.last_error = stmt->Text(7);
    branch.next_retry_ms = stmt->Int(8);
    branch.depends_on = SplitDependencies(stmt->Text(9));
    branch.max_attempts = static_cast<uint32_t>(stmt->Int(10));
    branch.timeout_ms = static_cast<uint32_t>(stmt->Int(11));
    gt.branches.push_back(std::move(branch));
  }
}

absl::StatusOr<std::optional<GlobalTransaction>> FindTransaction(Database& db,
                                                                 absl::string_view gid) {
  ASSIGN_OR_RETURN(auto stmt, db.Prepare(absl::StrCat("SELECT ", kHeaderColumns,
                                                      " FROM global_transactions WHERE gid=?")));
  stmt->Bind(1, gid);
  ASSIGN_OR_RETURN(bool row, stmt->Step());
  if (!row) return std::nullopt;
  ASSIGN_OR_RETURN(GlobalTransaction gt, ReadHeader(*stmt));
  stmt.reset();
  RETURN_IF_ERROR(LoadBranches(db, gt));
  return gt;
}

}  // namespace tcc::sqlite
