#include "coordinator/store/sqlite_queries.h"

#include <filesystem>
#include <variant>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "coordinator/store/sqlite_rows.h"
#include "tcc/common/status_macros.h"

namespace tcc {
namespace {

// A SELECT with its WHERE clause and bound values built from a ListQuery.
// Values are bound, never spliced into the SQL text.
struct Filter {
  std::vector<std::string> clauses;
  std::vector<std::variant<int64_t, std::string>> values;

  void Add(std::string clause, std::vector<std::variant<int64_t, std::string>> bound) {
    clauses.push_back(std::move(clause));
    values.insert(values.end(), bound.begin(), bound.end());
  }
};

Filter BuildFilter(const ListQuery& query) {
  Filter filter;
  if (!query.states.empty()) {
    std::vector<std::string> marks(query.states.size(), "?");
    std::vector<std::variant<int64_t, std::string>> states;
    for (TxState state : query.states) states.push_back(static_cast<int64_t>(state));
    filter.Add(absl::StrCat("state IN (", absl::StrJoin(marks, ","), ")"), states);
  }
  if (query.stuck_only) filter.Add("stuck = 1", {});
  if (query.created_at_or_before_ms > 0) {
    filter.Add("created_ms <= ?", {query.created_at_or_before_ms});
  }
  if (!query.gid_prefix.empty()) {
    // '~' sorts after every gid character, so this range is the prefix and
    // can use the primary key.
    filter.Add("gid >= ? AND gid < ?", {query.gid_prefix, query.gid_prefix + "~"});
  }
  if (!query.target.empty()) {
    filter.Add("EXISTS (SELECT 1 FROM branches b WHERE b.gid = g.gid AND b.target = ?)",
               {query.target});
  }
  if (query.after) {
    const char* op = query.oldest_first ? ">" : "<";
    filter.Add(absl::StrCat("(created_ms ", op, " ? OR (created_ms = ? AND gid ", op, " ?))"),
               {query.after->created_ms, query.after->created_ms, query.after->gid});
  }
  return filter;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteQueries>> SqliteQueries::Open(const std::string& path) {
  TCC_ASSIGN_OR_RETURN(sqlite::Database db, sqlite::Database::Open(path));
  TCC_RETURN_IF_ERROR(db.Exec("PRAGMA query_only=ON"));
  TCC_RETURN_IF_ERROR(db.Exec("PRAGMA busy_timeout=5000"));
  return std::unique_ptr<SqliteQueries>(new SqliteQueries(std::move(db), path));
}

absl::StatusOr<std::vector<GlobalTransaction>> SqliteQueries::List(const ListQuery& query) {
  Filter filter = BuildFilter(query);
  const char* direction = query.oldest_first ? "ASC" : "DESC";
  std::string sql =
      absl::StrCat("SELECT ", sqlite::kHeaderColumns, " FROM global_transactions g",
                   filter.clauses.empty() ? "" : " WHERE ", absl::StrJoin(filter.clauses, " AND "),
                   " ORDER BY created_ms ", direction, ", gid ", direction, " LIMIT ?");
  std::vector<GlobalTransaction> page;
  {
    TCC_ASSIGN_OR_RETURN(auto stmt, db_.Prepare(sql));
    int index = 1;
    for (const auto& value : filter.values) {
      if (std::holds_alternative<int64_t>(value)) {
        stmt->Bind(index++, std::get<int64_t>(value));
      } else {
        stmt->Bind(index++, std::get<std::string>(value));
      }
    }
    stmt->Bind(index, static_cast<int64_t>(query.limit));
    while (true) {
      TCC_ASSIGN_OR_RETURN(bool row, stmt->Step());
      if (!row) break;
      TCC_ASSIGN_OR_RETURN(GlobalTransaction gt, sqlite::ReadHeader(*stmt));
      page.push_back(std::move(gt));
    }
  }
  for (GlobalTransaction& gt : page) TCC_RETURN_IF_ERROR(sqlite::LoadBranches(db_, gt));
  return page;
}

absl::StatusOr<std::optional<GlobalTransaction>> SqliteQueries::Find(absl::string_view gid) {
  return sqlite::FindTransaction(db_, gid);
}

absl::StatusOr<std::vector<TimelineEvent>> SqliteQueries::Timeline(absl::string_view gid) {
  TCC_ASSIGN_OR_RETURN(auto stmt, db_.Prepare("SELECT at_ms, kind, detail, actor FROM "
                                              "transaction_events WHERE gid = ? ORDER BY seq"));
  stmt->Bind(1, gid);
  std::vector<TimelineEvent> timeline;
  while (true) {
    TCC_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) return timeline;
    timeline.push_back({stmt->Int(0), stmt->Text(1), stmt->Text(2), stmt->Text(3)});
  }
}

absl::StatusOr<StoreStats> SqliteQueries::Stats() {
  StoreStats stats;
  {
    TCC_ASSIGN_OR_RETURN(auto stmt, db_.Prepare("SELECT state, COUNT(*) FROM global_transactions "
                                                "GROUP BY state"));
    while (true) {
      TCC_ASSIGN_OR_RETURN(bool row, stmt->Step());
      if (!row) break;
      if (IsValidTxState(static_cast<int>(stmt->Int(0)))) {
        stats.by_state[static_cast<TxState>(stmt->Int(0))] = stmt->Int(1);
      }
    }
  }
  {
    TCC_ASSIGN_OR_RETURN(auto stmt, db_.Prepare("SELECT COUNT(*), SUM(stuck), MIN(created_ms) FROM "
                                                "global_transactions WHERE finished = 0"));
    TCC_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (row && stmt->Int(0) > 0) {
      stats.stuck = stmt->Int(1);
      stats.oldest_unfinished_created_ms = stmt->Int(2);
    }
  }
  {
    // The retention index makes this one step.
    TCC_ASSIGN_OR_RETURN(auto stmt, db_.Prepare("SELECT MIN(updated_ms) FROM global_transactions "
                                                "WHERE finished = 1"));
    TCC_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (row) stats.oldest_finished_updated_ms = stmt->Int(0);  // NULL reads as 0.
  }
  TCC_RETURN_IF_ERROR(AddSizes(stats));
  // Branches still waiting for a Confirm or Cancel whose last attempt failed.
  auto value = [](auto state) { return static_cast<int>(state); };
  std::string failing = absl::StrCat(
      "SELECT b.target, COUNT(*), SUM(b.attempts), MAX(b.last_error) "
      "FROM branches b JOIN global_transactions g ON g.gid = b.gid "
      "WHERE g.finished = 0 AND b.attempts > 0 AND b.last_error != '' AND ("
      "(g.state = ",
      value(TxState::kCommitting), " AND b.state = ", value(BranchState::kTried),
      ") OR (g.state = ", value(TxState::kRollingBack),
      " AND b.state != ", value(BranchState::kCancelled),
      ") OR (g.state = ", value(TxState::kRunning),
      " AND b.state = ", value(BranchState::kRegistered),
      ") OR (g.state = ", value(TxState::kCompensating), " AND b.state IN (",
      value(BranchState::kRegistered), ",", value(BranchState::kTried),
      "))) GROUP BY b.target ORDER BY SUM(b.attempts) DESC LIMIT 50");
  TCC_ASSIGN_OR_RETURN(auto stmt, db_.Prepare(failing));
  while (true) {
    TCC_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    stats.failing_targets.push_back({stmt->Text(0), static_cast<uint32_t>(stmt->Int(1)),
                                     static_cast<uint64_t>(stmt->Int(2)), stmt->Text(3)});
  }
  return stats;
}

absl::Status SqliteQueries::AddSizes(StoreStats& stats) {
  auto pragma = [this](const char* sql) -> absl::StatusOr<int64_t> {
    TCC_ASSIGN_OR_RETURN(auto stmt, db_.Prepare(sql));
    TCC_ASSIGN_OR_RETURN(bool row, stmt->Step());
    return row ? stmt->Int(0) : 0;
  };
  TCC_ASSIGN_OR_RETURN(int64_t page_size, pragma("PRAGMA page_size"));
  TCC_ASSIGN_OR_RETURN(int64_t pages, pragma("PRAGMA page_count"));
  TCC_ASSIGN_OR_RETURN(int64_t free_pages, pragma("PRAGMA freelist_count"));
  std::error_code error;
  uintmax_t wal = std::filesystem::file_size(path_ + "-wal", error);
  stats.store_bytes = static_cast<uint64_t>(pages * page_size) + (error ? 0 : wal);
  stats.free_bytes = static_cast<uint64_t>(free_pages * page_size);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> SqliteQueries::FinishedBefore(int64_t before_ms,
                                                                       size_t limit) {
  return sqlite::FinishedBefore(db_, before_ms, limit);
}

}  // namespace tcc
