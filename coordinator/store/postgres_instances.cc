#include "coordinator/store/postgres_instances.h"

#include <unistd.h>

#include "absl/random/random.h"
#include "absl/strings/str_format.h"
#include "tcc/common/status_macros.h"

namespace tcc {

using pg::Params;
using pg::Rows;

absl::StatusOr<std::unique_ptr<PostgresInstances>> PostgresInstances::Open(const std::string& uri,
                                                                           std::string instance_id,
                                                                           std::string address) {
  TCC_ASSIGN_OR_RETURN(pg::Connection conn, pg::Connection::Open(uri, "tccd-instances"));
  auto instances = std::unique_ptr<PostgresInstances>(
      new PostgresInstances(std::move(conn), std::move(instance_id), std::move(address)));
  TCC_RETURN_IF_ERROR(instances->Heartbeat().status());
  return instances;
}

std::string PostgresInstances::NewInstanceId() {
  char host[64] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  absl::BitGen random;
  return absl::StrFormat("%s-%d-%06x", host, getpid(), absl::Uniform<uint32_t>(random, 0, 1 << 24));
}

absl::StatusOr<PostgresInstances::Beat> PostgresInstances::Heartbeat() {
  if (conn_.lost()) TCC_RETURN_IF_ERROR(conn_.Reconnect());
  // Both CTEs see the row as it was before the upsert: `previous` is the
  // last heartbeat.
  constexpr absl::string_view kSql =
      "WITH previous AS (SELECT heartbeat_at FROM coordinator_instances WHERE instance_id = $1), "
      "beat AS (INSERT INTO coordinator_instances (instance_id, address, started_at, "
      "heartbeat_at) VALUES ($1, $2, now(), now()) "
      "ON CONFLICT (instance_id) DO UPDATE SET heartbeat_at = now() RETURNING heartbeat_at) "
      "SELECT (EXTRACT(EPOCH FROM b.heartbeat_at) * 1000)::bigint, "
      "(EXTRACT(EPOCH FROM b.heartbeat_at - p.heartbeat_at) * 1000)::bigint "
      "FROM beat b LEFT JOIN previous p ON true";
  TCC_ASSIGN_OR_RETURN(Rows rows, conn_.Query(kSql, Params().Text(instance_id_).Text(address_)));
  Beat beat;
  TCC_ASSIGN_OR_RETURN(beat.at_ms, rows.Int(0, 0));
  if (!rows.IsNull(0, 1)) {
    TCC_ASSIGN_OR_RETURN(int64_t since, rows.Int(0, 1));
    beat.since_previous_ms = since;
  }
  return beat;
}

absl::StatusOr<int64_t> PostgresInstances::Leave() {
  if (conn_.lost()) TCC_RETURN_IF_ERROR(conn_.Reconnect());
  constexpr absl::string_view kSql =
      "WITH released AS (UPDATE global_transactions SET owner = '', epoch = epoch + 1 "
      "WHERE owner = $1 AND NOT finished RETURNING gid), "
      "gone AS (DELETE FROM coordinator_instances WHERE instance_id = $1) "
      "SELECT COUNT(*) FROM released";
  TCC_ASSIGN_OR_RETURN(Rows rows, conn_.Query(kSql, Params().Text(instance_id_)));
  return rows.Int(0, 0);
}

}  // namespace tcc
