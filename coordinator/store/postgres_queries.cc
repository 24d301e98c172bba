#include "coordinator/store/postgres_queries.h"

#include <functional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "coordinator/store/postgres_rows.h"
#include "tcc/common/status_macros.h"

namespace tcc {
namespace {

using pg::Params;
using pg::Rows;

// The WHERE clauses of a ListQuery, numbering their parameters from $1.
struct Filter {
  std::vector<std::string> clauses;
  Params params;

  std::string Next() { return absl::StrCat("$", params.size() + 1); }
};

Filter BuildFilter(const ListQuery& query) {
  Filter filter;
  if (!query.states.empty()) {
    std::vector<std::string> marks;
    for (TxState state : query.states) {
      marks.push_back(filter.Next());
      filter.params.Int(static_cast<int>(state));
    }
    filter.clauses.push_back(absl::StrCat("state IN (", absl::StrJoin(marks, ","), ")"));
  }
  if (query.stuck_only) filter.clauses.push_back("stuck");
  if (query.created_at_or_before_ms > 0) {
    filter.clauses.push_back(absl::StrCat("created_ms <= ", filter.Next()));
    filter.params.Int(query.created_at_or_before_ms);
  }
  if (!query.gid_prefix.empty()) {
    // gid is COLLATE "C": '~' sorts after every gid character, so this
    // range is the prefix and can use the primary key.
    std::string low = filter.Next();
    filter.params.Text(query.gid_prefix);
    filter.clauses.push_back(absl::StrCat("gid >= ", low, " AND gid < ", filter.Next()));
    filter.params.Text(query.gid_prefix + "~");
  }
  if (!query.target.empty()) {
    filter.clauses.push_back(absl::StrCat(
        "EXISTS (SELECT 1 FROM branches b WHERE b.gid = g.gid AND b.target = ", filter.Next(),
        ")"));
    filter.params.Text(query.target);
  }
  if (query.after) {
    const char* op = query.oldest_first ? ">" : "<";
    filter.clauses.push_back(absl::StrCat("(created_ms, gid) ", op, " (", filter.Next(),
                                          "::bigint, ", absl::StrCat("$", filter.params.size() + 2),
                                          "::text)"));
    filter.params.Int(query.after->created_ms).Text(query.after->gid);
  }
  return filter;
}

// Branches still waiting for a Confirm or Cancel whose last attempt failed.
std::string FailingTargetsSql() {
  auto value = [](auto state) { return static_cast<int>(state); };
  return absl::StrCat(
      "SELECT b.target, COUNT(*), SUM(b.attempts)::bigint, MAX(b.last_error) "
      "FROM branches b JOIN global_transactions g ON g.gid = b.gid "
      "WHERE NOT g.finished AND b.attempts > 0 AND b.last_error != '' AND ("
      "(g.state = ",
      value(TxState::kCommitting), " AND b.state = ", value(BranchState::kTried),
      ") OR (g.state = ", value(TxState::kRollingBack),
      " AND b.state != ", value(BranchState::kCancelled),
      ") OR (g.state = ", value(TxState::kRunning),
      " AND b.state = ", value(BranchState::kRegistered),
      ") OR (g.state = ", value(TxState::kCompensating), " AND b.state IN (",
      value(BranchState::kRegistered), ",", value(BranchState::kTried),
      "))) GROUP BY b.target ORDER BY SUM(b.attempts) DESC LIMIT 50");
}

}  // namespace

absl::StatusOr<std::unique_ptr<PostgresQueries>> PostgresQueries::Open(const std::string& uri,
                                                                       const std::string& app_name,
                                                                       absl::Duration lease) {
  TCC_ASSIGN_OR_RETURN(pg::Connection conn, pg::Connection::Open(uri, app_name));
  return std::unique_ptr<PostgresQueries>(new PostgresQueries(std::move(conn), lease));
}

template <typename T>
absl::StatusOr<T> PostgresQueries::InSnapshot(const std::function<absl::StatusOr<T>()>& read) {
  if (conn_.lost()) TCC_RETURN_IF_ERROR(conn_.Reconnect());
  TCC_RETURN_IF_ERROR(conn_.Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").status());
  absl::StatusOr<T> result = read();
  if (!result.ok()) {
    if (!conn_.lost()) conn_.Exec("ROLLBACK").IgnoreError();
    return result;
  }
  TCC_RETURN_IF_ERROR(conn_.Exec("COMMIT").status());
  return result;
}

absl::StatusOr<std::vector<GlobalTransaction>> PostgresQueries::List(const ListQuery& query) {
  return InSnapshot<std::vector<GlobalTransaction>>([&] { return ListPage(query); });
}

absl::StatusOr<std::vector<GlobalTransaction>> PostgresQueries::ListPage(const ListQuery& query) {
  Filter filter = BuildFilter(query);
  const char* direction = query.oldest_first ? "ASC" : "DESC";
  std::string limit = filter.Next();
  filter.params.Int(query.limit);
  std::string sql =
      absl::StrCat("SELECT ", pg::kHeaderColumns, " FROM global_transactions g",
                   filter.clauses.empty() ? "" : " WHERE ", absl::StrJoin(filter.clauses, " AND "),
                   " ORDER BY created_ms ", direction, ", gid ", direction, " LIMIT ", limit);
  TCC_ASSIGN_OR_RETURN(Rows rows, conn_.Query(sql, filter.params));
  std::vector<GlobalTransaction> page;
  for (int row = 0; row < rows.size(); ++row) {
    TCC_ASSIGN_OR_RETURN(GlobalTransaction gt, pg::ReadHeader(rows, row));
    page.push_back(std::move(gt));
  }
  TCC_RETURN_IF_ERROR(pg::LoadBranches(conn_, page));
  return page;
}

absl::StatusOr<std::optional<GlobalTransaction>> PostgresQueries::Find(absl::string_view gid) {
  return InSnapshot<std::optional<GlobalTransaction>>(
      [&] { return pg::FindTransaction(conn_, gid); });
}

absl::StatusOr<std::vector<TimelineEvent>> PostgresQueries::Timeline(absl::string_view gid) {
  if (conn_.lost()) TCC_RETURN_IF_ERROR(conn_.Reconnect());
  TCC_ASSIGN_OR_RETURN(Rows rows, conn_.Query("SELECT at_ms, kind, detail, actor FROM "
                                              "transaction_events WHERE gid = $1 ORDER BY seq",
                                              Params().Text(gid)));
  std::vector<TimelineEvent> timeline;
  for (int row = 0; row < rows.size(); ++row) {
    TCC_ASSIGN_OR_RETURN(int64_t at_ms, rows.Int(row, 0));
    timeline.push_back({at_ms, rows.Text(row, 1), rows.Text(row, 2), rows.Text(row, 3)});
  }
  return timeline;
}

absl::StatusOr<StoreStats> PostgresQueries::Stats() {
  return InSnapshot<StoreStats>([&] { return ReadStats(); });
}

absl::StatusOr<StoreStats> PostgresQueries::ReadStats() {
  StoreStats stats;
  TCC_ASSIGN_OR_RETURN(Rows states, conn_.Exec("SELECT state, COUNT(*) FROM global_transactions "
                                               "GROUP BY state"));
  for (int row = 0; row < states.size(); ++row) {
    TCC_ASSIGN_OR_RETURN(int64_t state, states.Int(row, 0));
    TCC_ASSIGN_OR_RETURN(int64_t count, states.Int(row, 1));
    if (IsValidTxState(static_cast<int>(state)))
      stats.by_state[static_cast<TxState>(state)] = count;
  }
  // One row: unfinished (count, stuck, oldest), oldest finished, and the
  // tables with their indexes and TOAST on disk. Free space inside them is
  // not cheap to know in PostgreSQL (VACUUM makes dead rows' space
  // reusable): free_bytes stays 0.
  static const std::string kSummarySql = absl::StrCat(
      "SELECT (SELECT COUNT(*) FILTER (WHERE stuck) FROM global_transactions WHERE NOT finished), "
      "(SELECT MIN(created_ms) FROM global_transactions WHERE NOT finished), "
      "(SELECT MIN",
      pg::kFinishedAt,
      " FROM global_transactions WHERE finished), "
      "pg_total_relation_size('global_transactions') + pg_total_relation_size('branches') + "
      "pg_total_relation_size('transaction_events')");
  TCC_ASSIGN_OR_RETURN(Rows summary, conn_.Exec(kSummarySql));
  TCC_ASSIGN_OR_RETURN(int64_t stuck, summary.Int(0, 0));
  stats.stuck = static_cast<uint64_t>(stuck);
  TCC_ASSIGN_OR_RETURN(stats.oldest_unfinished_created_ms, summary.Int(0, 1));
  TCC_ASSIGN_OR_RETURN(stats.oldest_finished_updated_ms, summary.Int(0, 2));
  TCC_ASSIGN_OR_RETURN(int64_t bytes, summary.Int(0, 3));
  stats.store_bytes = static_cast<uint64_t>(bytes);
  TCC_RETURN_IF_ERROR(AddFailingTargets(stats));
  TCC_RETURN_IF_ERROR(AddInstances(stats));
  return stats;
}

absl::Status PostgresQueries::AddInstances(StoreStats& stats) {
  // Ages and liveness on the database's clock, as the takeover judges them.
  constexpr absl::string_view kSql =
      "SELECT instance_id, address, (EXTRACT(EPOCH FROM started_at) * 1000)::bigint, "
      "(EXTRACT(EPOCH FROM now() - heartbeat_at) * 1000)::bigint, "
      "heartbeat_at > now() - $1::bigint * interval '1 millisecond' "
      "FROM coordinator_instances ORDER BY started_at, instance_id";
  TCC_ASSIGN_OR_RETURN(Rows rows,
                       conn_.Query(kSql, pg::Params().Int(absl::ToInt64Milliseconds(lease_))));
  for (int row = 0; row < rows.size(); ++row) {
    InstanceInfo instance{.instance_id = rows.Text(row, 0), .address = rows.Text(row, 1)};
    TCC_ASSIGN_OR_RETURN(instance.started_ms, rows.Int(row, 2));
    TCC_ASSIGN_OR_RETURN(instance.heartbeat_age_ms, rows.Int(row, 3));
    TCC_ASSIGN_OR_RETURN(int64_t live, rows.Int(row, 4));
    instance.live = live != 0;
    stats.instances.push_back(std::move(instance));
  }
  return absl::OkStatus();
}

absl::Status PostgresQueries::AddFailingTargets(StoreStats& stats) {
  static const std::string kSql = FailingTargetsSql();
  TCC_ASSIGN_OR_RETURN(Rows rows, conn_.Exec(kSql));
  for (int row = 0; row < rows.size(); ++row) {
    TCC_ASSIGN_OR_RETURN(int64_t branches, rows.Int(row, 1));
    TCC_ASSIGN_OR_RETURN(int64_t attempts, rows.Int(row, 2));
    stats.failing_targets.push_back({rows.Text(row, 0), static_cast<uint32_t>(branches),
                                     static_cast<uint64_t>(attempts), rows.Text(row, 3)});
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> PostgresQueries::FinishedBefore(int64_t before_ms,
                                                                         size_t limit) {
  if (conn_.lost()) TCC_RETURN_IF_ERROR(conn_.Reconnect());
  TCC_ASSIGN_OR_RETURN(Rows rows,
                       conn_.Query(pg::kFinishedBeforeSql,
                                   Params().Int(before_ms).Int(static_cast<int64_t>(limit))));
  std::vector<std::string> gids;
  for (int row = 0; row < rows.size(); ++row) gids.push_back(rows.Text(row, 0));
  return gids;
}

}  // namespace tcc
