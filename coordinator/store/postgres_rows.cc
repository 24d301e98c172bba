#include "coordinator/store/postgres_rows.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "coordinator/store/headers_codec.h"
#include "tcc/common/status_macros.h"

namespace tcc::pg {

std::string Qualified(absl::string_view prefix, absl::string_view columns) {
  std::vector<std::string> qualified;
  for (absl::string_view column : absl::StrSplit(columns, ", ")) {
    qualified.push_back(absl::StrCat(prefix, column));
  }
  return absl::StrJoin(qualified, ", ");
}

std::string JoinDependencies(const std::vector<std::string>& depends_on) {
  return absl::StrJoin(depends_on, ",");
}

absl::StatusOr<GlobalTransaction> ReadHeader(const Rows& rows, int row) {
  GlobalTransaction gt;
  gt.gid = rows.Text(row, 0);
  TCC_ASSIGN_OR_RETURN(int64_t state, rows.Int(row, 1));
  if (!IsValidTxState(static_cast<int>(state))) {
    return absl::DataLossError(
        absl::StrCat("stored transaction ", gt.gid, " has unknown state ", state));
  }
  gt.state = static_cast<TxState>(state);
  TCC_ASSIGN_OR_RETURN(gt.created_ms, rows.Int(row, 2));
  TCC_ASSIGN_OR_RETURN(gt.updated_ms, rows.Int(row, 3));
  TCC_ASSIGN_OR_RETURN(int64_t timeout_ms, rows.Int(row, 4));
  gt.timeout_ms = static_cast<uint32_t>(timeout_ms);
  TCC_ASSIGN_OR_RETURN(gt.deadline_ms, rows.Int(row, 5));
  gt.status_endpoint = rows.Text(row, 6);
  TCC_ASSIGN_OR_RETURN(int64_t stuck, rows.Int(row, 7));
  gt.stuck = stuck != 0;
  gt.decision_reason = rows.Text(row, 8);
  TCC_ASSIGN_OR_RETURN(int64_t mode, rows.Int(row, 9));
  gt.mode = mode == static_cast<int>(TxMode::kSaga) ? TxMode::kSaga : TxMode::kTcc;
  gt.owner = rows.Text(row, 10);
  TCC_ASSIGN_OR_RETURN(gt.epoch, rows.Int(row, 11));
  gt.traceparent = rows.Text(row, 12);
  return gt;
}

absl::StatusOr<Branch> ReadBranch(const Rows& rows, int row, int first, absl::string_view gid) {
  Branch branch;
  branch.branch_id = rows.Text(row, first);
  branch.target = rows.Text(row, first + 1);
  branch.action = rows.Text(row, first + 2);
  TCC_ASSIGN_OR_RETURN(branch.payload, rows.Bytes(row, first + 3));
  TCC_ASSIGN_OR_RETURN(std::string headers, rows.Bytes(row, first + 4));
  TCC_ASSIGN_OR_RETURN(branch.headers, DecodeHeaders(headers));
  TCC_ASSIGN_OR_RETURN(int64_t state, rows.Int(row, first + 5));
  if (!IsValidBranchState(static_cast<int>(state))) {
    return absl::DataLossError(absl::StrCat("stored branch ", branch.branch_id, " of ", gid,
                                            " has unknown state ", state));
  }
  branch.state = static_cast<BranchState>(state);
  TCC_ASSIGN_OR_RETURN(int64_t attempts, rows.Int(row, first + 6));
  branch.attempts = static_cast<uint32_t>(attempts);
  branch.last_error = rows.Text(row, first + 7);
  TCC_ASSIGN_OR_RETURN(branch.next_retry_ms, rows.Int(row, first + 8));
  std::string depends_on = rows.Text(row, first + 9);
  if (!depends_on.empty()) branch.depends_on = absl::StrSplit(depends_on, ',');
  TCC_ASSIGN_OR_RETURN(int64_t max_attempts, rows.Int(row, first + 10));
  branch.max_attempts = static_cast<uint32_t>(max_attempts);
  TCC_ASSIGN_OR_RETURN(int64_t timeout_ms, rows.Int(row, first + 11));
  branch.timeout_ms = static_cast<uint32_t>(timeout_ms);
  TCC_ASSIGN_OR_RETURN(int64_t sent, rows.Int(row, first + 12));
  branch.action_sent = sent != 0;
  return branch;
}

absl::StatusOr<std::optional<GlobalTransaction>> FindTransaction(Connection& conn,
                                                                 absl::string_view gid) {
  static const std::string kSql =
      absl::StrCat("SELECT ", kHeaderColumns, " FROM global_transactions WHERE gid = $1");
  TCC_ASSIGN_OR_RETURN(Rows rows, conn.Query(kSql, Params().Text(gid)));
  if (rows.size() == 0) return std::nullopt;
  std::vector<GlobalTransaction> found(1);
  TCC_ASSIGN_OR_RETURN(found[0], ReadHeader(rows, 0));
  TCC_RETURN_IF_ERROR(LoadBranches(conn, found));
  return std::move(found[0]);
}

absl::Status LoadBranches(Connection& conn, std::vector<GlobalTransaction>& gts) {
  if (gts.empty()) return absl::OkStatus();
  static const std::string kSql = absl::StrCat("SELECT gid, ", kBranchColumns,
                                               " FROM branches WHERE gid = ANY($1::text[]) "
                                               "ORDER BY gid, position");
  std::vector<std::string> gids;
  absl::flat_hash_map<std::string, GlobalTransaction*> by_gid;
  for (GlobalTransaction& gt : gts) {
    gids.push_back(gt.gid);
    by_gid[gt.gid] = &gt;
  }
  TCC_ASSIGN_OR_RETURN(Rows rows, conn.Query(kSql, Params().TextArray(gids)));
  for (int row = 0; row < rows.size(); ++row) {
    auto it = by_gid.find(rows.Text(row, 0));
    if (it == by_gid.end()) continue;
    TCC_ASSIGN_OR_RETURN(Branch branch, ReadBranch(rows, row, 1, it->second->gid));
    it->second->branches.push_back(std::move(branch));
  }
  return absl::OkStatus();
}

}  // namespace tcc::pg
