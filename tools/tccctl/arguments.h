// tccctl's parsed command line and its validation into Admin requests. Every
// check that needs no server happens here, so a usage error (exit 2) never
// reaches the network: state names, durations, gids, exactly-one-of rules,
// the mandatory reason. Each error is INVALID_ARGUMENT with a message for
// the operator. Stateless functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tcc/common/tls.h"
#include "tcc/v1/admin.pb.h"
#include "tools/tccctl/commands.h"

namespace tcc::tccctl {

// Every option of every command, as typed; only the chosen command's are set.
struct Arguments {
  // Global.
  std::string addr;
  // TLS files (default: $TCC_TLS_CA, $TCC_TLS_CERT, $TCC_TLS_KEY); none:
  // plaintext.
  std::string tls_ca;
  std::string tls_cert;
  std::string tls_key;
  // Bearer token, or a file holding one (default: $TCC_TOKEN,
  // $TCC_TOKEN_FILE); neither: no token.
  std::string token;
  std::string token_file;
  bool json = false;
  std::string timeout = "5";
  // list (target also for retry --target).
  std::vector<std::string> states;
  bool stuck = false;
  std::string older_than;
  std::string gid_prefix;
  std::string target;
  bool oldest_first = false;
  std::string limit;  // As typed: checked by BuildList, so its error reads like the others.
  std::string page_token;
  bool all = false;
  // show, retry, resolve.
  std::string gid;
  std::string operator_name;
  bool commit = false;
  bool rollback = false;
  bool mark_committed = false;
  bool mark_rolled_back = false;
  std::string reason;
};

inline constexpr size_t kMaxReasonLength = 1024;
// list --limit: the range tccd accepts for a page, and its default.
inline constexpr uint32_t kMaxPageSize = 500;
inline constexpr uint32_t kDefaultPageSize = 50;

// OK for a well-formed gid (1..128 characters of [A-Za-z0-9._:-]).
absl::Status CheckGid(const std::string& gid);

// --addr: not empty, no spaces (gRPC resolves the rest).
absl::Status CheckAddress(const std::string& address);

// --tls-ca, --tls-cert, --tls-key as TlsOptions, files checked (a usage
// error naming the option and its variable otherwise). Not enabled: none
// given, plaintext.
absl::StatusOr<TlsOptions> BuildTls(const Arguments& args);

// The bearer token of --token or --token-file (at most one of them; the
// file's surrounding whitespace dropped); empty when neither is given.
absl::StatusOr<std::string> BuildToken(const Arguments& args);

// --timeout: a positive number of seconds, at most a day.
absl::StatusOr<absl::Duration> ParseTimeout(const std::string& seconds);

absl::StatusOr<ListOptions> BuildList(const Arguments& args);
// `default_operator` is used when --operator is not given.
absl::StatusOr<v1::RetryNowRequest> BuildRetry(const Arguments& args,
                                               const std::string& default_operator);
absl::StatusOr<v1::ResolveRequest> BuildResolve(const Arguments& args,
                                                const std::string& default_operator);

}  // namespace tcc::tccctl
