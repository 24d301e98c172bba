#include "examples/points-pay/common/service_util.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>
#include <signal.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string_view>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

namespace pointspay {
namespace {

sigset_t StopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

}  // namespace

void BlockStopSignals() {
  sigset_t set = StopSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

void DisableMutexDeadlockDetection() {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
}

int WaitForStopSignal() {
  sigset_t set = StopSignals();
  int signal = 0;
  while (sigwait(&set, &signal) != 0) {
  }
  return signal;
}

absl::Status WritePortFile(const std::string& path, int port) {
  if (path.empty()) return absl::OkStatus();
  std::string temp = path + ".tmp";
  {
    std::ofstream out(temp, std::ios::trunc);
    out << port << "\n";
    if (!out.flush()) return absl::UnavailableError(absl::StrCat("cannot write ", temp));
  }
  std::error_code error;
  std::filesystem::rename(temp, path, error);
  if (error)
    return absl::UnavailableError(absl::StrCat("cannot rename ", temp, ": ", error.message()));
  return absl::OkStatus();
}

void SetUpLogging(const std::string& service, const std::string& level) {
  // stderr, flushed per line: the launcher keeps it in the service's log file,
  // and a SIGKILL must not eat the last lines.
  auto logger = spdlog::stderr_logger_mt(service);
  logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ [%n] %v");
  logger->flush_on(spdlog::level::trace);
  logger->set_level(spdlog::level::from_str(level));
  spdlog::set_default_logger(logger);
}

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& target,
                                           std::shared_ptr<grpc::ChannelCredentials> credentials) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  if (absl::StartsWith(target, "ipv4:") && absl::StrContains(target, ',')) {
    // Several servers: one subchannel each, calls spread round-robin over
    // those that are up. TLS checks each one's certificate against the
    // host of the list (the default authority would be the whole list).
    args.SetServiceConfigJSON(R"({"loadBalancingConfig": [{"round_robin": {}}]})");
    std::string_view first = std::string_view(target).substr(5);
    args.SetString(GRPC_ARG_DEFAULT_AUTHORITY, std::string(first.substr(0, first.find(':'))));
  }
  return grpc::CreateCustomChannel(target, std::move(credentials), args);
}

tcc::TlsOptions ServerTls(const std::string& dir, const std::string& name) {
  if (dir.empty()) return {};
  return {.cert_file = dir + "/" + name + ".pem",
          .key_file = dir + "/" + name + ".key",
          .ca_file = dir + "/ca.pem",
          .require_client_cert = true};
}

tcc::TlsOptions ClientTls(const std::string& dir, const std::string& name) {
  tcc::TlsOptions tls = ServerTls(dir, name);
  tls.require_client_cert = false;
  return tls;
}

}  // namespace pointspay
