#include "tools/bench/bench_env.h"

#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "common/tls/throwaway_pki.h"
#include "tcc/common/status_macros.h"

namespace tcc::bench {

void PrintMachine() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  std::printf("machine: nproc %ld, load average %s %s %s\n", sysconf(_SC_NPROCESSORS_ONLN),
              one.c_str(), five.c_str(), fifteen.c_str());
  std::fflush(stdout);
}

absl::StatusOr<std::unique_ptr<ScratchDir>> ScratchDir::Create(bool keep) {
  std::string pattern = (std::filesystem::temp_directory_path() / "tcc-bench-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    return absl::UnavailableError(absl::StrCat("cannot create ", pattern));
  }
  return std::unique_ptr<ScratchDir>(new ScratchDir(pattern, keep));
}

ScratchDir::~ScratchDir() {
  if (keep_) return;
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

absl::StatusOr<std::unique_ptr<BenchEnv>> BenchEnv::Start(const TccdOptions& options,
                                                          int participants, bool fail_second_phase,
                                                          bool keep) {
  auto env = std::make_unique<BenchEnv>();
  env->options_ = options;
  env->scratch_keep_ = keep;
  TCC_ASSIGN_OR_RETURN(env->scratch_, ScratchDir::Create(keep));
  if (options.tls) {
    if (!options.addr.empty()) {
      return absl::InvalidArgumentError(
          "--tls makes a throwaway CA for a tccd it starts itself; not with --addr");
    }
    TCC_RETURN_IF_ERROR(env->MakePki());
  }
  for (int i = 0; i < participants; ++i) {
    TCC_ASSIGN_OR_RETURN(auto participant,
                         NullParticipant::Start(fail_second_phase, env->participant_tls_));
    env->participants_.push_back(std::move(participant));
  }
  if (!options.addr.empty()) {
    env->addresses_ = {options.addr};
    return env;
  }
  if (options.store == "postgres") {
    TCC_RETURN_IF_ERROR(env->StartPostgres());
  } else if (env->options_.data.empty()) {
    env->options_.data = env->scratch() + "/tccd.db";
  }
  TCC_RETURN_IF_ERROR(env->StartTccd());
  return env;
}

absl::Status BenchEnv::StartPostgres() {
  TCC_ASSIGN_OR_RETURN(postgres_dir_, ScratchDir::Create(scratch_keep_));
  TCC_ASSIGN_OR_RETURN(postgres_,
                       ::tcc::process::PrivatePostgres::Start({.dir = postgres_dir_->path(),
                                                               .user = "tcc",
                                                               .database = "tcc_bench",
                                                               .settings = options_.pg_settings}));
  return absl::OkStatus();
}

absl::Status BenchEnv::StartTccd() {
  TccdProcess::Options process;
  process.binary = options_.tccd_path;
  process.log_level = options_.log_level;
  process.extra_args = options_.extra_args;
  if (postgres_) {
    process.store = postgres_->DatabaseUri();
  } else {
    process.data = options_.data;
    process.sync = options_.sync;
  }
  tccds_.clear();
  addresses_.clear();
  int instances = postgres_ ? options_.instances : 1;
  for (int i = 0; i < instances; ++i) {
    // One directory per instance: its port file and log.
    process.work_dir = i == 0 ? scratch() : absl::StrCat(scratch(), "/tccd-", i + 1);
    std::filesystem::create_directories(process.work_dir);
    TCC_ASSIGN_OR_RETURN(auto tccd, TccdProcess::Start(process, absl::Minutes(5)));
    addresses_.push_back(tccd->address());
    tccds_.push_back(std::move(tccd));
  }
  return absl::OkStatus();
}

pid_t BenchEnv::postgres_pid() const {
  if (!postgres_) return 0;
  std::ifstream in(postgres_dir_->path() + "/data/postmaster.pid");
  pid_t pid = 0;
  in >> pid;
  return in ? pid : 0;
}

std::vector<TccdProcess*> BenchEnv::tccds() {
  std::vector<TccdProcess*> all;
  for (auto& tccd : tccds_) all.push_back(tccd.get());
  return all;
}

absl::Status BenchEnv::MakePki() {
  std::string dir = scratch() + "/pki";
  std::filesystem::create_directories(dir);
  TCC_ASSIGN_OR_RETURN(ThrowawayCa ca, ThrowawayCa::Create(dir, "bench-ca"));
  TCC_ASSIGN_OR_RETURN(CertFiles tccd, ca.Issue("tccd"));
  TCC_ASSIGN_OR_RETURN(CertFiles bench, ca.Issue("bench"));
  options_.extra_args.insert(
      options_.extra_args.end(),
      {"--tls_cert=" + tccd.cert_file, "--tls_key=" + tccd.key_file,
       "--tls_client_ca=" + ca.cert_file(), "--participant_ca=" + ca.cert_file(),
       "--participant_cert=" + tccd.cert_file, "--participant_key=" + tccd.key_file});
  participant_tls_ = {.cert_file = bench.cert_file,
                      .key_file = bench.key_file,
                      .ca_file = ca.cert_file(),
                      .require_client_cert = true};
  TlsOptions client{
      .cert_file = bench.cert_file, .key_file = bench.key_file, .ca_file = ca.cert_file()};
  TCC_ASSIGN_OR_RETURN(credentials_, MakeChannelCredentials(client));
  return absl::OkStatus();
}

std::vector<std::string> BenchEnv::participant_targets() const {
  std::vector<std::string> targets;
  for (const auto& participant : participants_) targets.push_back(participant->target());
  return targets;
}

}  // namespace tcc::bench
