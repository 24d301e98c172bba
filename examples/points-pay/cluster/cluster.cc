#include "examples/points-pay/cluster/cluster.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/process/port_file.h"
#include "common/tls/throwaway_pki.h"
#include "examples/points-pay/common/service_util.h"
#include "examples/points-pay/common/sqlite_file.h"
#include "tcc/common/status_macros.h"

namespace pointspay {
namespace {

constexpr absl::Duration kStartTimeout = absl::Seconds(30);
constexpr absl::Duration kStopGrace = absl::Seconds(10);

enum class Kind { kTccd, kPoints, kPaylog, kOrder };

using ::tcc::process::ChildOptions;
using ::tcc::process::ChildProcess;
using ::tcc::process::DescribeWaitStatus;
using ::tcc::process::FreeLoopbackPort;
using ::tcc::process::PrivatePostgres;
using ::tcc::process::ReadPortFile;

std::string Loopback(int port) { return ::tcc::process::LoopbackAddress(port); }

// The last lines of a log, to say why a process did not come up.
std::string Tail(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line);
    if (lines.size() > 5) lines.erase(lines.begin());
  }
  return absl::StrJoin(lines, "\n    ");
}

}  // namespace

std::vector<std::string> CoordinatorNames(int coordinators) {
  if (coordinators == 1) return {"tccd"};
  std::vector<std::string> names;
  for (int i = 1; i <= coordinators; ++i) names.push_back(absl::StrCat("tccd", i));
  return names;
}

struct Cluster::Process {
  Kind kind;
  std::string name;
  std::unique_ptr<ChildProcess> child;
  int port = 0;  // 0 until the first start reported it
  // Order service only: its status endpoint and its refund saga step.
  int status_port = 0;
  int participant_port = 0;
  int restarts = 0;  // every restart: seeds each run's fault dice apart
  int restarts_after_crash = 0;
};

Cluster::Cluster(ClusterOptions options)
    : options_(std::move(options)),
      coordinator_names_(CoordinatorNames(std::max(options_.coordinators, 1))) {
  std::filesystem::create_directories(log_dir());
  std::filesystem::create_directories(Path("run"));
  std::vector<std::pair<Kind, std::string>> all;
  for (const std::string& name : coordinator_names_) all.push_back({Kind::kTccd, name});
  all.insert(all.end(), {{Kind::kPoints, "points_service"},
                         {Kind::kPaylog, "paylog_service"},
                         {Kind::kOrder, "order_service"}});
  for (const auto& [kind, name] : all) {
    auto p = std::make_unique<Process>();
    p->kind = kind;
    p->name = name;
    p->child = std::make_unique<ChildProcess>(ChildOptions{
        .output_path = (std::filesystem::path(log_dir()) / absl::StrCat(name, ".log")).string()});
    processes_.push_back(std::move(p));
  }
}

Cluster::~Cluster() { (void)Stop(); }

std::string Cluster::Path(const std::string& name) const {
  return (std::filesystem::path(options_.data_dir) / name).string();
}

std::string Cluster::log_dir() const { return Path("logs"); }

std::string Cluster::Address(const std::string& name, int port) const {
  return options_.routes != nullptr ? options_.routes->Route(name, port) : Loopback(port);
}

absl::Status Cluster::Validate(const ClusterOptions& options) {
  if (options.coordinators < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("--coordinators must be at least 1, not ", options.coordinators));
  }
  if (options.coordinators > 1 && !options.postgres) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--coordinators ", options.coordinators,
        " needs --store postgres: tccd instances share one PostgreSQL database, never a "
        "SQLite file"));
  }
  return absl::OkStatus();
}

Cluster::Process* Cluster::Find(const std::string& name) const {
  for (const auto& p : processes_) {
    if (p->name == name) return p.get();
  }
  return nullptr;
}

std::string Cluster::order_address() const { return Loopback(Find("order_service")->port); }

std::string Cluster::store_uri() const {
  return postgres_ != nullptr ? postgres_->DatabaseUri() : "";
}

std::string Cluster::coordinator_address(const std::string& name) const {
  const Process* p = Find(name);
  return p != nullptr && p->kind == Kind::kTccd ? Loopback(p->port) : "";
}

std::string Cluster::CoordinatorTarget() const {
  std::vector<std::string> addresses;
  for (const std::string& name : coordinator_names_) {
    addresses.push_back(Address(name, Find(name)->port));
  }
  if (addresses.size() == 1) return addresses[0];
  // gRPC's ipv4 resolver: one subchannel per address (MakeChannel puts
  // round_robin over them).
  return absl::StrCat("ipv4:", absl::StrJoin(addresses, ","));
}

std::vector<std::string> Cluster::Argv(const Process& p) const {
  std::string port_file = Path(absl::StrCat("run/", p.name, ".port"));
  if (p.kind == Kind::kTccd) {
    std::vector<std::string> argv = {
        options_.binaries.tccd, absl::StrCat("--listen=", Loopback(p.port)),
        absl::StrCat("--port_file=", port_file),
        // Quick retries: a restarted participant is back within a second.
        "--retry_initial_ms=50", "--retry_max_ms=1000",
        absl::StrCat("--default_timeout_ms=", options_.gt_timeout_ms),
        absl::StrCat("--log_level=", options_.log_level)};
    if (options_.postgres) {
      argv.push_back(absl::StrCat("--store=", store_uri()));
      argv.push_back(absl::StrCat("--ownership_lease_ms=", options_.ownership_lease_ms));
    } else {
      argv.push_back(absl::StrCat("--data=", Path("tccd.db")));
      argv.push_back(absl::StrCat("--sync=", options_.sync));
    }
    if (options_.tls) {
      std::string pki = PkiDir();
      argv.insert(argv.end(), {absl::StrCat("--tls_cert=", pki, "/", p.name, ".pem"),
                               absl::StrCat("--tls_key=", pki, "/", p.name, ".key"),
                               absl::StrCat("--tls_client_ca=", pki, "/ca.pem"),
                               absl::StrCat("--participant_ca=", pki, "/ca.pem"),
                               absl::StrCat("--participant_cert=", pki, "/", p.name, ".pem"),
                               absl::StrCat("--participant_key=", pki, "/", p.name, ".key"),
                               "--participant_tls_required"});
    }
    return argv;
  }
  return ServiceArgv(p);
}

std::string Cluster::PkiDir() const { return Path("pki"); }

absl::Status Cluster::MakePki() const {
  std::filesystem::create_directories(PkiDir());
  TCC_ASSIGN_OR_RETURN(tcc::ThrowawayCa ca, tcc::ThrowawayCa::Create(PkiDir(), "ca"));
  for (const auto& p : processes_) TCC_RETURN_IF_ERROR(ca.Issue(p->name).status());
  return ca.Issue("launcher").status();
}

tcc::TlsOptions Cluster::client_tls() const {
  return ClientTls(options_.tls ? PkiDir() : "", "launcher");
}

std::vector<std::string> Cluster::ServiceArgv(const Process& p) const {
  const FaultConfig* faults = p.kind == Kind::kPoints   ? &options_.faults.points
                              : p.kind == Kind::kPaylog ? &options_.faults.paylog
                                                        : &options_.faults.order;
  const char* binary = p.kind == Kind::kPoints   ? options_.binaries.points_service.c_str()
                       : p.kind == Kind::kPaylog ? options_.binaries.paylog_service.c_str()
                                                 : options_.binaries.order_service.c_str();
  const char* db = p.kind == Kind::kPoints   ? "points.db"
                   : p.kind == Kind::kPaylog ? "paylog.db"
                                             : "orders.db";
  std::vector<std::string> argv = {
      binary,
      absl::StrCat("--listen=", Loopback(p.port)),
      absl::StrCat("--port_file=", Path(absl::StrCat("run/", p.name, ".port"))),
      absl::StrCat("--db=", Path(db)),
      absl::StrCat("--sync=", options_.sync),
      absl::StrCat("--log_level=", options_.log_level)};
  if (options_.tls) argv.push_back(absl::StrCat("--tls_dir=", PkiDir()));
  if (p.kind == Kind::kOrder) {
    argv.push_back(absl::StrCat("--status_listen=", Loopback(p.status_port)));
    argv.push_back(absl::StrCat("--status_port_file=", Path("run/order_status.port")));
    argv.push_back(absl::StrCat("--participant_listen=", Loopback(p.participant_port)));
    argv.push_back(absl::StrCat("--participant_port_file=", Path("run/order_participant.port")));
    argv.push_back(absl::StrCat("--coordinator=", CoordinatorTarget()));
    argv.push_back(
        absl::StrCat("--points=", Address("points_service", Find("points_service")->port)));
    argv.push_back(
        absl::StrCat("--paylog=", Address("paylog_service", Find("paylog_service")->port)));
    if (options_.routes != nullptr) {
      argv.push_back(absl::StrCat("--status_address=", Address("order_status", p.status_port)));
    }
    argv.push_back(absl::StrCat("--gt_timeout_ms=", options_.gt_timeout_ms));
  }
  FaultConfig seeded = *faults;
  // A different dice sequence per service and per restart.
  seeded.seed = options_.fault_seed * 1000 + static_cast<int>(p.kind) * 100 + p.restarts + 1;
  if (faults->any()) {
    for (std::string& flag : FaultFlags(seeded)) argv.push_back(std::move(flag));
  }
  return argv;
}

absl::Status Cluster::StartProcess(Process& p) {
  std::string port_file = Path(absl::StrCat("run/", p.name, ".port"));
  std::string status_file = Path("run/order_status.port");
  std::string participant_file = Path("run/order_participant.port");
  bool order = p.kind == Kind::kOrder;
  std::filesystem::remove(port_file);
  if (order) {
    std::filesystem::remove(status_file);
    std::filesystem::remove(participant_file);
  }
  TCC_RETURN_IF_ERROR(p.child->Start(Argv(p)));
  absl::Time deadline = absl::Now() + kStartTimeout;
  while (absl::Now() < deadline) {
    if (std::optional<int> exit = p.child->PollExit()) {
      return absl::UnavailableError(absl::StrCat(p.name, " exited at start (",
                                                 DescribeWaitStatus(*exit), "); its log:\n    ",
                                                 Tail(p.child->options().output_path)));
    }
    int port = ReadPortFile(port_file);
    int status_port = order ? ReadPortFile(status_file) : 1;
    int participant_port = order ? ReadPortFile(participant_file) : 1;
    if (port > 0 && status_port > 0 && participant_port > 0) {
      p.port = port;
      if (order) {
        p.status_port = status_port;
        p.participant_port = participant_port;
        Address("order_status", status_port);  // the route learns the port
      }
      return absl::OkStatus();
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
  p.child->Stop(absl::Seconds(1));
  return absl::DeadlineExceededError(
      absl::StrCat(p.name, " did not start serving within ", absl::FormatDuration(kStartTimeout)));
}

namespace {

// Run as root, the server runs as the postgres user (private_postgres.h),
// which must be able to reach DIR/postgres: DIR is made searchable (a fresh
// temp dir is 0700), its parents must be already.
absl::Status CheckReachable(const std::string& data_dir) {
  if (geteuid() != 0) return absl::OkStatus();
  std::error_code ignored;
  std::filesystem::permissions(
      data_dir, std::filesystem::perms::group_exec | std::filesystem::perms::others_exec,
      std::filesystem::perm_options::add, ignored);
  for (std::filesystem::path dir = std::filesystem::path(data_dir).parent_path();
       !dir.empty() && dir != dir.root_path(); dir = dir.parent_path()) {
    std::filesystem::perms perms = std::filesystem::status(dir, ignored).permissions();
    if ((perms & std::filesystem::perms::others_exec) == std::filesystem::perms::none) {
      return absl::FailedPreconditionError(
          absl::StrCat("--store postgres runs PostgreSQL as the postgres user, which cannot reach ",
                       data_dir, ": ", dir.string(),
                       " is not searchable by others; chmod o+x it or choose another "
                       "--data-dir"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status Cluster::StartPostgres() {
  TCC_RETURN_IF_ERROR(CheckReachable(options_.data_dir));
  TCC_ASSIGN_OR_RETURN(postgres_, PrivatePostgres::Start({.dir = Path("postgres")}));
  return absl::OkStatus();
}

// With postgres, on a port chosen first: the instance's row in
// coordinator_instances names its real address (see coordinator_address).
absl::Status Cluster::StartCoordinator(Process& p) {
  if (!options_.postgres) return StartProcess(p);
  absl::Status started;
  for (int attempt = 0; attempt < 3; ++attempt) {  // The free port may be taken meanwhile.
    p.port = FreeLoopbackPort();
    started = StartProcess(p);
    if (started.ok()) break;
  }
  return started;
}

absl::Status Cluster::Start() {
  TCC_RETURN_IF_ERROR(Validate(options_));
  if (options_.tls) TCC_RETURN_IF_ERROR(MakePki());
  if (options_.postgres) TCC_RETURN_IF_ERROR(StartPostgres());
  for (auto& p : processes_) {
    TCC_RETURN_IF_ERROR(p->kind == Kind::kTccd ? StartCoordinator(*p) : StartProcess(*p));
  }
  return absl::OkStatus();
}

absl::Status Cluster::Restart(Process& p) {
  ++p.restarts;
  // The port may stay busy for a moment after a crash; try a few times.
  absl::Status started;
  for (int attempt = 0; attempt < 20; ++attempt) {
    started = StartProcess(p);
    if (started.ok()) break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  return started;
}

absl::StatusOr<int> Cluster::Supervise() {
  int restarted = 0;
  for (auto& p : processes_) {
    if (!p->child->PollExit().has_value()) continue;
    ++restarted;
    ++p->restarts_after_crash;
    TCC_RETURN_IF_ERROR(Restart(*p));
  }
  return restarted;
}

absl::Status Cluster::Stop() {
  std::vector<std::string> unclean;
  for (auto it = processes_.rbegin(); it != processes_.rend(); ++it) {
    std::optional<int> status = (*it)->child->Stop(kStopGrace);
    if (status.has_value() && !(WIFEXITED(*status) && WEXITSTATUS(*status) == 0)) {
      unclean.push_back(absl::StrCat((*it)->name, ": ", DescribeWaitStatus(*status)));
    }
  }
  if (unclean.empty()) return absl::OkStatus();
  return absl::InternalError(absl::StrCat("not stopped cleanly: ", absl::StrJoin(unclean, "; ")));
}

absl::Status Cluster::StopStore() {
  if (postgres_ == nullptr) return absl::OkStatus();
  absl::Status stopped = postgres_->Stop();
  if (stopped.ok()) return stopped;
  return absl::InternalError(absl::StrCat("PostgreSQL did not stop: ", stopped.message()));
}

absl::StatusOr<bool> Cluster::KillAndRestart(const std::string& name, absl::Duration downtime,
                                             const std::function<void()>& signalled) {
  Process* p = Find(name);
  if (p == nullptr) return absl::NotFoundError(absl::StrCat("no process named ", name));
  bool killed = p->child->Kill().has_value();
  if (!killed) ++p->restarts_after_crash;  // It died on its own first.
  if (killed && signalled) signalled();
  absl::SleepFor(downtime);
  TCC_RETURN_IF_ERROR(Restart(*p));
  return killed;
}

absl::StatusOr<bool> Cluster::PauseAndResume(const std::string& name, absl::Duration pause,
                                             const std::function<void()>& signalled) {
  Process* p = Find(name);
  if (p == nullptr) return absl::NotFoundError(absl::StrCat("no process named ", name));
  if (!p->child->Alive() || kill(p->child->pid(), SIGSTOP) != 0) {
    ++p->restarts_after_crash;  // It died on its own first.
    TCC_RETURN_IF_ERROR(Restart(*p));
    return false;
  }
  if (signalled) signalled();
  absl::SleepFor(pause);
  if (kill(p->child->pid(), SIGCONT) != 0) {
    return absl::InternalError(
        absl::StrCat("cannot SIGCONT ", name, " (pid ", p->child->pid(), "): it stays paused"));
  }
  return true;
}

absl::StatusOr<int64_t> Cluster::UnfinishedTransactions() const {
  if (postgres_ != nullptr) {
    TCC_ASSIGN_OR_RETURN(
        std::string count,
        postgres_->Query("SELECT COUNT(*) FROM global_transactions WHERE NOT finished"));
    int64_t n = 0;
    if (!absl::SimpleAtoi(count, &n)) return absl::DataLossError("COUNT(*) is not a number");
    return n;
  }
  TCC_ASSIGN_OR_RETURN(std::unique_ptr<SqliteFile> db, SqliteFile::Open(Path("tccd.db")));
  return db->QueryInt("SELECT COUNT(*) FROM global_transactions WHERE state NOT IN (3, 5)");
}

pid_t Cluster::pid(const std::string& name) const {
  const Process* p = Find(name);
  return p != nullptr ? p->child->pid() : -1;
}

std::map<std::string, int> Cluster::restarts_after_crash() const {
  std::map<std::string, int> counts;
  for (const auto& p : processes_) counts[p->name] = p->restarts_after_crash;
  return counts;
}

int Cluster::total_restarts_after_crash() const {
  int total = 0;
  for (const auto& p : processes_) total += p->restarts_after_crash;
  return total;
}

}  // namespace pointspay
