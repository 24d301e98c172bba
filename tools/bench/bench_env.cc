#include "tools/bench/bench_env.h"

#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
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
  for (int i = 0; i < participants; ++i) {
    TCC_ASSIGN_OR_RETURN(auto participant, NullParticipant::Start(fail_second_phase));
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

std::vector<std::string> BenchEnv::participant_targets() const {
  std::vector<std::string> targets;
  for (const auto& participant : participants_) targets.push_back(participant->target());
  return targets;
}

}  // namespace tcc::bench
