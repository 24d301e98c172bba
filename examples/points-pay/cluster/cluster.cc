#include "examples/points-pay/cluster/cluster.h"

#include <sys/wait.h>

#include <filesystem>
#include <fstream>

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

Cluster::Cluster(ClusterOptions options) : options_(std::move(options)) {
  std::filesystem::create_directories(log_dir());
  std::filesystem::create_directories(Path("run"));
  for (auto [kind, name] : {std::pair{Kind::kTccd, "tccd"},
                            {Kind::kPoints, "points_service"},
                            {Kind::kPaylog, "paylog_service"},
                            {Kind::kOrder, "order_service"}}) {
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

std::string Cluster::order_address() const { return Loopback(processes_[3]->port); }

std::vector<std::string> Cluster::Argv(const Process& p) const {
  std::string port_file = Path(absl::StrCat("run/", p.name, ".port"));
  if (p.kind == Kind::kTccd) {
    std::vector<std::string> argv = {
        options_.binaries.tccd, absl::StrCat("--listen=", Loopback(p.port)),
        absl::StrCat("--port_file=", port_file), absl::StrCat("--data=", Path("tccd.db")),
        absl::StrCat("--sync=", options_.sync),
        // Quick retries: a restarted participant is back within a second.
        "--retry_initial_ms=50", "--retry_max_ms=1000",
        absl::StrCat("--default_timeout_ms=", options_.gt_timeout_ms),
        absl::StrCat("--log_level=", options_.log_level)};
    if (options_.tls) {
      std::string pki = PkiDir();
      argv.insert(argv.end(), {absl::StrCat("--tls_cert=", pki, "/tccd.pem"),
                               absl::StrCat("--tls_key=", pki, "/tccd.key"),
                               absl::StrCat("--tls_client_ca=", pki, "/ca.pem"),
                               absl::StrCat("--participant_ca=", pki, "/ca.pem"),
                               absl::StrCat("--participant_cert=", pki, "/tccd.pem"),
                               absl::StrCat("--participant_key=", pki, "/tccd.key"),
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
    argv.push_back(absl::StrCat("--coordinator=", Address("tccd", processes_[0]->port)));
    argv.push_back(absl::StrCat("--points=", Address("points_service", processes_[1]->port)));
    argv.push_back(absl::StrCat("--paylog=", Address("paylog_service", processes_[2]->port)));
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

absl::Status Cluster::Start() {
  if (options_.tls) TCC_RETURN_IF_ERROR(MakePki());
  for (auto& p : processes_) TCC_RETURN_IF_ERROR(StartProcess(*p));
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

absl::StatusOr<bool> Cluster::KillAndRestart(const std::string& name, absl::Duration downtime) {
  for (auto& p : processes_) {
    if (p->name != name) continue;
    bool killed = p->child->Kill().has_value();
    if (!killed) ++p->restarts_after_crash;  // It died on its own first.
    absl::SleepFor(downtime);
    TCC_RETURN_IF_ERROR(Restart(*p));
    return killed;
  }
  return absl::NotFoundError(absl::StrCat("no process named ", name));
}

absl::StatusOr<int64_t> Cluster::UnfinishedTransactions() const {
  TCC_ASSIGN_OR_RETURN(std::unique_ptr<SqliteFile> db, SqliteFile::Open(Path("tccd.db")));
  return db->QueryInt("SELECT COUNT(*) FROM global_transactions WHERE state NOT IN (3, 5)");
}

pid_t Cluster::pid(const std::string& name) const {
  for (const auto& p : processes_) {
    if (p->name == name) return p->child->pid();
  }
  return -1;
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
