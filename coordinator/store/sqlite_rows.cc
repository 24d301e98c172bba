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
  gt.traceparent = row.Text(10);
  return gt;
}

absl::StatusOr<Branch> ReadBranch(const Statement& row, int first, absl::string_view gid) {
  Branch branch;
  branch.branch_id = row.Text(first);
  branch.target = row.Text(first + 1);
  branch.action = row.Text(first + 2);
  branch.payload = row.Text(first + 3);
  TCC_ASSIGN_OR_RETURN(branch.headers, DecodeHeaders(row.Text(first + 4)));
  int64_t state = row.Int(first + 5);
  if (!IsValidBranchState(static_cast<int>(state))) {
    return absl::DataLossError(absl::StrCat("stored branch ", branch.branch_id, " of ", gid,
                                            " has unknown state ", state));
  }
  branch.state = static_cast<BranchState>(state);
  branch.attempts = static_cast<uint32_t>(row.Int(first + 6));
  branch.last_error = row.Text(first + 7);
  branch.next_retry_ms = row.Int(first + 8);
  branch.depends_on = SplitDependencies(row.Text(first + 9));
  branch.max_attempts = static_cast<uint32_t>(row.Int(first + 10));
  branch.timeout_ms = static_cast<uint32_t>(row.Int(first + 11));
  branch.action_sent = row.Int(first + 12) != 0;
  return branch;
}

absl::Status LoadBranches(Database& db, GlobalTransaction& gt) {
  static const std::string kSql =
      absl::StrCat("SELECT ", kBranchColumns, " FROM branches WHERE gid=? ORDER BY position");
  TCC_ASSIGN_OR_RETURN(auto stmt, db.Prepare(kSql));
  stmt->Bind(1, gt.gid);
  while (true) {
    TCC_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) return absl::OkStatus();
    TCC_ASSIGN_OR_RETURN(Branch branch, ReadBranch(*stmt, 0, gt.gid));
    gt.branches.push_back(std::move(branch));
  }
}

absl::StatusOr<std::optional<GlobalTransaction>> FindTransaction(Database& db,
                                                                 absl::string_view gid) {
  TCC_ASSIGN_OR_RETURN(
      auto stmt,
      db.Prepare(absl::StrCat("SELECT ", kHeaderColumns, " FROM global_transactions WHERE gid=?")));
  stmt->Bind(1, gid);
  TCC_ASSIGN_OR_RETURN(bool row, stmt->Step());
  if (!row) return std::nullopt;
  TCC_ASSIGN_OR_RETURN(GlobalTransaction gt, ReadHeader(*stmt));
  stmt.reset();
  TCC_RETURN_IF_ERROR(LoadBranches(db, gt));
  return gt;
}

absl::StatusOr<std::vector<std::string>> FinishedBefore(Database& db, int64_t before_ms,
                                                        size_t limit) {
  TCC_ASSIGN_OR_RETURN(auto select,
                       db.Prepare("SELECT gid FROM global_transactions WHERE finished = 1 AND "
                                  "updated_ms < ? ORDER BY updated_ms, gid LIMIT ?"));
  select->Bind(1, before_ms).Bind(2, static_cast<int64_t>(limit));
  std::vector<std::string> gids;
  while (true) {
    TCC_ASSIGN_OR_RETURN(bool row, select->Step());
    if (!row) return gids;
    gids.push_back(select->Text(0));
  }
}

}  // namespace tcc::sqlite
