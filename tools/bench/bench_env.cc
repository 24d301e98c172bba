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
    env->address_ = options.addr;
    return env;
  }
  if (env->options_.data.empty()) env->options_.data = env->scratch() + "/tccd.db";
  TCC_RETURN_IF_ERROR(env->StartTccd());
  return env;
}

absl::Status BenchEnv::StartTccd() {
  TccdProcess::Options process;
  process.binary = options_.tccd_path;
  process.data = options_.data;
  process.sync = options_.sync;
  process.log_level = options_.log_level;
  process.work_dir = scratch();
  process.extra_args = options_.extra_args;
  tccd_.reset();
  TCC_ASSIGN_OR_RETURN(tccd_, TccdProcess::Start(process, absl::Minutes(5)));
  address_ = tccd_->address();
  return absl::OkStatus();
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
