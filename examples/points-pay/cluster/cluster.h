// The four processes of the example on one machine: tccd, points_service,
// paylog_service and order_service, each with its own SQLite file in the data
// directory and its own loopback port (the order service has three: its API,
// its status endpoint and its refund saga step). The first start uses port 0
// and a port file; the ports are then kept, so that a restarted service is
// found again at the address the coordinator stored in its branches, saga
// steps and each GT's status endpoint. Logs go to DIR/logs/<name>.log
// (appended across restarts).
//
// With `postgres`, tccd keeps its transactions in a private PostgreSQL
// cluster in DIR/postgres instead of DIR/tccd.db, and `coordinators`
// instances of it (tccd1..tccdN) share that database, each on its own port
// chosen before its first start; the order service reaches all of them.
//
// Supervise() restarts any service that died (a crash fault, an OOM kill) on
// the same port and data file, and counts these restarts apart from those
// after a kill of KillAndRestart (chaos mode), which its caller counts. It is meant to be called
// in a loop by the thread that called Start (see common/process/child_process.h on why).
//
// Thread-safety: not thread-safe; one owner thread for every method.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/process/private_postgres.h"
#include "examples/points-pay/cluster/binaries.h"
#include "examples/points-pay/cluster/fault_profile.h"
#include "examples/points-pay/cluster/routes.h"
#include "tcc/common/tls.h"

namespace pointspay {

struct ClusterOptions {
  std::string data_dir;
  Binaries binaries = DefaultBinaries();
  ServiceFaults faults;
  uint64_t fault_seed = 1;
  int gt_timeout_ms = 5000;
  std::string sync = "full";  // SQLite synchronous of every process
  std::string log_level = "info";
  // Mutual TLS on every hop: Start makes a throwaway CA and a certificate
  // per process in DIR/pki (openssl), gives tccd its --tls_* and
  // --participant_* flags and each service --tls_dir; the launcher's own
  // calls use client_tls().
  bool tls = false;
  // What stands between the processes (fault proxies, see routes.h); null:
  // each is called on its own port. Not owned; must outlive the cluster.
  Routes* routes = nullptr;
  // The coordinators' store. SQLite (the default): one tccd on DIR/tccd.db.
  // PostgreSQL: Start first starts a private PostgreSQL cluster in
  // DIR/postgres (common/process/private_postgres.h) and gives every tccd
  // --store=postgresql://...; `coordinators` instances then share it, each
  // on its own port, and the order service round-robins its calls to tccd
  // over all of them (service_util.h's MakeChannel).
  bool postgres = false;
  int coordinators = 1;           // > 1 only with postgres
  int ownership_lease_ms = 2000;  // tccd --ownership_lease_ms (postgres only)
};

// The coordinators' process names: "tccd" alone, else "tccd1".."tccdN".
std::vector<std::string> CoordinatorNames(int coordinators);

class Cluster {
 public:
  explicit Cluster(ClusterOptions options);
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  // INVALID_ARGUMENT (saying what to change) for coordinators < 1, or > 1
  // without postgres.
  static absl::Status Validate(const ClusterOptions& options);

  // Starts PostgreSQL (with postgres), every tccd, then the participants,
  // then the order service, each once its port file says it serves.
  absl::Status Start();
  // Restarts every service that exited. Returns how many it restarted.
  absl::StatusOr<int> Supervise();
  // SIGTERM to every process (order service first, tccd last); SIGKILL after
  // a grace period. An error names any that did not exit cleanly.
  absl::Status Stop();
  // With postgres, after Stop (and after the checker read it): stops the
  // PostgreSQL server. Nothing otherwise.
  absl::Status StopStore();

  // SIGKILLs the process named `name` (a coordinator's, see
  // CoordinatorNames, or "points_service", "paylog_service",
  // "order_service"), reaps it, leaves it down for
  // `downtime`, then restarts it on the same port and data file. True when
  // it was running (false: it had already exited, and the restart counts as
  // one after a crash). NOT_FOUND for another name.
  // `signalled`, if set, runs right after the kill (before the downtime).
  absl::StatusOr<bool> KillAndRestart(const std::string& name, absl::Duration downtime,
                                      const std::function<void()>& signalled = nullptr);

  // SIGSTOPs the process named `name` for `pause`, then SIGCONTs it: a
  // paused process (a VM freeze, a long stall) keeps its sockets and its
  // database sessions. Blocks for the pause. False when it was not running
  // (it is then restarted, and that counts as a restart after a crash).
  // `signalled`, if set, runs right after the SIGSTOP.
  absl::StatusOr<bool> PauseAndResume(const std::string& name, absl::Duration pause,
                                      const std::function<void()>& signalled = nullptr);

  // Global transactions of tccd not yet COMMITTED or ROLLED_BACK.
  absl::StatusOr<int64_t> UnfinishedTransactions() const;

  // With postgres: the coordinators' database (a libpq URI); else "".
  std::string store_uri() const;
  // Where tccd serves, "127.0.0.1:PORT", for `name` (CoordinatorNames):
  // with postgres also the address column of its coordinator_instances row
  // (every instance listens on a port chosen before its first start, so the
  // row names it). "" for another name.
  std::string coordinator_address(const std::string& name) const;
  const std::vector<std::string>& coordinator_names() const { return coordinator_names_; }

  std::string order_address() const;
  // What a client of the order service (the launcher) presents and trusts:
  // with `tls`, the "launcher" certificate of DIR/pki; else plaintext.
  tcc::TlsOptions client_tls() const;
  // The pid of the process named `name` (as in KillAndRestart), or -1 when
  // it is not running or there is no such process: lets a benchmark sample
  // each process's CPU time and memory.
  pid_t pid(const std::string& name) const;
  const std::string& data_dir() const { return options_.data_dir; }
  std::string log_dir() const;
  // Restarts of processes that had died on their own (crash faults, real
  // crashes), per process and in total; restarts after KillAndRestart's
  // kills are not in these.
  std::map<std::string, int> restarts_after_crash() const;
  int total_restarts_after_crash() const;

 private:
  struct Process;

  absl::Status StartProcess(Process& p);
  absl::Status Restart(Process& p);
  std::vector<std::string> Argv(const Process& p) const;
  std::vector<std::string> ServiceArgv(const Process& p) const;
  // With `tls`: the CA and a certificate for each process and the launcher.
  absl::Status MakePki() const;
  std::string PkiDir() const;
  std::string Path(const std::string& name) const;
  // The address the others use for `name` on `port` (through routes).
  std::string Address(const std::string& name, int port) const;
  // The order service's --coordinator: one address, or with several
  // instances an ipv4: list of all of them.
  std::string CoordinatorTarget() const;
  Process* Find(const std::string& name) const;
  absl::Status StartPostgres();
  absl::Status StartCoordinator(Process& p);

  const ClusterOptions options_;
  const std::vector<std::string> coordinator_names_;
  // With postgres; declared first so it stops after every tccd.
  std::unique_ptr<tcc::process::PrivatePostgres> postgres_;
  // Every tccd, then points, paylog, order: started in this order, stopped
  // in reverse.
  std::vector<std::unique_ptr<Process>> processes_;
};

}  // namespace pointspay
