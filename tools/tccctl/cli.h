// tccctl's command line: parses arguments with CLI11, turns them into
// validated Admin requests (usage errors never reach the network), runs the
// command and maps the result to an exit code. Everything it takes from the
// process (streams, environment, terminal, clock, the Admin connection) comes
// in through Environment, so the whole CLI runs in unit tests against a fake.
// Thread-compatible.
#pragma once

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "absl/time/time.h"
#include "tools/tccctl/admin_client.h"

namespace tcc::tccctl {

// Process exit codes.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;  // The call failed: unreachable, NOT_FOUND, refused, ...
inline constexpr int kExitUsage = 2;   // Bad arguments; nothing was sent.

inline constexpr char kDefaultAddress[] = "127.0.0.1:7420";

struct Environment {
  std::ostream* out = nullptr;
  std::ostream* err = nullptr;
  // $TCC_ADDR, $TCC_TLS_CA, $TCC_TLS_CERT, $TCC_TLS_KEY and $USER; empty
  // when unset.
  std::string tcc_addr;
  std::string tls_ca;
  std::string tls_cert;
  std::string tls_key;
  // $TCC_TOKEN and $TCC_TOKEN_FILE.
  std::string token;
  std::string token_file;
  std::string user;
  // stdout is a terminal and $NO_COLOR is unset.
  bool color = false;
  // Terminal width of stdout; 0 when not a terminal.
  size_t width = 0;
  absl::Time now;
  absl::TimeZone zone;
  // Opens the Admin client once the arguments are valid.
  std::function<absl::StatusOr<std::unique_ptr<AdminApi>>(
      const std::string& address, absl::Duration timeout, const TlsOptions& tls,
      const std::string& token)>
      connect;
};

// The real process: std::cout / std::cerr, getenv, isatty, ioctl, the local
// time zone and a gRPC client.
Environment ProcessEnvironment();

// Runs tccctl with `argv` (argv[0] is the program) and returns the exit code.
int RunCli(int argc, const char* const argv[], const Environment& env);

}  // namespace tcc::tccctl
