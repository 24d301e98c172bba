// The membership side of several tccd instances sharing one PostgreSQL
// database: this instance's row in coordinator_instances, its heartbeat
// (always the database's now(), never a local clock, so clock skew between
// machines cannot make a live instance look dead), and its departure,
// which hands its unfinished GTs back at once (owner '' and epoch + 1, so
// a late write of its own is fenced) instead of after the lease.
//
// Uses its own connection, so a heartbeat never waits behind the writer's
// batches. Not thread-safe: one thread (tccd's ownership timer) uses it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "coordinator/store/postgres_connection.h"

namespace tcc {

class PostgresInstances {
 public:
  // Registers `instance_id` (serving at `address`, shown to operators) with
  // a fresh heartbeat. The schema must be migrated (PostgresStore::Open).
  static absl::StatusOr<std::unique_ptr<PostgresInstances>> Open(const std::string& uri,
                                                                 std::string instance_id,
                                                                 std::string address);

  // A new, unique instance id: host, process id and random bits.
  static std::string NewInstanceId();

  const std::string& instance_id() const { return instance_id_; }

  // One heartbeat, on the database's clock.
  struct Beat {
    int64_t at_ms = 0;  // now(), ms since the Unix epoch
    // Since this instance's previous heartbeat; none for the first.
    std::optional<int64_t> since_previous_ms;
  };
  // Refreshes the heartbeat (re-registering if the row went); reconnects
  // after a lost connection.
  absl::StatusOr<Beat> Heartbeat();
  // Releases this instance's unfinished GTs and removes its row; returns
  // how many GTs it released.
  absl::StatusOr<int64_t> Leave();

 private:
  PostgresInstances(pg::Connection conn, std::string instance_id, std::string address)
      : conn_(std::move(conn)),
        instance_id_(std::move(instance_id)),
        address_(std::move(address)) {}

  pg::Connection conn_;
  const std::string instance_id_;
  const std::string address_;
};

}  // namespace tcc
