// The settings of one tcc_bench invocation, filled from the command line
// (cli.cc) and read by the commands. A plain value type: copy it freely.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tcc::bench {

// What one unit of load is (see workloads.h for what each one measures).
enum class Mode { kTcc, kSaga, kPointsPay };

struct TccdOptions {
  // Empty: connect to nothing and start tccd ourselves.
  std::string addr;
  std::string tccd_path;
  // The SQLite file tccd uses; empty: a fresh file in a temp dir.
  std::string data;
  // "sqlite" (tccd on --data), or "postgres": a private PostgreSQL cluster
  // started for the run (fsync and synchronous_commit on) with `instances`
  // tccd processes sharing its database.
  std::string store = "sqlite";
  int instances = 1;
  // Extra "name=value" settings for the private PostgreSQL server (e.g.
  // shared_preload_libraries=pg_stat_statements while profiling).
  std::vector<std::string> pg_settings;
  std::string sync = "full";
  std::string log_level = "warn";
  // Extra flags passed to tccd verbatim (e.g. --max_pending_writes=1000).
  std::vector<std::string> extra_args;
  // Mutual TLS on every hop (bench -> tccd -> null participants), with a
  // throwaway CA made for the run: what TLS costs.
  bool tls = false;
};

struct LoadOptions {
  Mode mode = Mode::kTcc;
  int branches = 3;
  int participants = 1;
  int channels = 2;
  int payload_bytes = 16;
  // TCC: Begin folded into the Try (TryRequest.begin): Try -> Commit.
  bool begin_in_try = false;
  // Closed loop: this many units in flight. Open loop (rate > 0): the
  // concurrency of the ceiling run only.
  int concurrency = 64;
  double rate = 0;
  double seconds = 10;
  double warmup_seconds = 1;
  double ceiling_seconds = 3;
  bool skip_ceiling = false;
  // Open loop: sends due while this many units are in flight are dropped
  // (counted as errors) so an overloaded run cannot exhaust memory.
  int max_in_flight = 20000;
  // --mode points-pay: orders to seed, each paid at most once (0: enough
  // for the whole run at 5,000 payments/s).
  int orders = 0;
};

struct UnfinishedOptions {
  int64_t count = 100000;
  int concurrency = 256;
  // How long after the restart every GT must have been retried.
  double retry_window_seconds = 5;
};

struct ShutdownOptions {
  int rounds = 5;
  // Connected, idle client channels to tccd while it stops.
  int idle_channels = 8;
  // And connections that never hang up, even after tccd's GOAWAY (see
  // common/process/silent_connection.h).
  int silent_connections = 1;
  // Closed-loop load (3-branch TCC) during the second stop of each round.
  int concurrency = 64;
};

struct SoakOptions {
  double minutes = 20;
  // One report line (and one plot column) per interval.
  double interval_seconds = 30;
  // tccd --retention_s for the run: short, so that several windows pass.
  int64_t retention_seconds = 60;
};

struct PrefillOptions {
  std::string data;
  int64_t count = 1000000;
  int branches = 3;
};

}  // namespace tcc::bench
