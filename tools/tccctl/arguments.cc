#include "tools/tccctl/arguments.h"

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tcc/common/status_macros.h"
#include "tools/tccctl/format.h"
#include "tools/tccctl/states.h"

namespace tcc::tccctl {
namespace {

absl::Status Usage(const std::string& message) { return absl::InvalidArgumentError(message); }

std::string OperatorName(const Arguments& args, const std::string& default_operator) {
  return args.operator_name.empty() ? default_operator : args.operator_name;
}

absl::StatusOr<v1::ResolveAction> ResolveActionOf(const Arguments& args) {
  int chosen = args.commit + args.rollback + args.mark_committed + args.mark_rolled_back;
  if (chosen != 1) {
    return Usage(
        "resolve needs exactly one of --commit, --rollback, --mark-committed, --mark-rolled-back");
  }
  if (args.commit) return v1::RESOLVE_ACTION_COMMIT;
  if (args.rollback) return v1::RESOLVE_ACTION_ROLLBACK;
  if (args.mark_committed) return v1::RESOLVE_ACTION_MARK_COMMITTED;
  return v1::RESOLVE_ACTION_MARK_ROLLED_BACK;
}

// "" (the server's default page size) or 1..kMaxPageSize.
absl::StatusOr<uint32_t> ParseLimit(const std::string& text) {
  if (text.empty()) return 0;
  uint32_t limit = 0;
  if (!absl::SimpleAtoi(text, &limit) || limit < 1 || limit > kMaxPageSize) {
    return Usage(absl::StrCat("malformed --limit \"", OneLine(text),
                              "\": give a page size from 1 to ", kMaxPageSize, " (default ",
                              kDefaultPageSize, ")"));
  }
  return limit;
}

}  // namespace

absl::Status CheckGid(const std::string& gid) {
  if (IsValidGid(gid)) return absl::OkStatus();
  return Usage(absl::StrCat("malformed gid \"", Truncate(OneLine(gid), 40),
                            "\": a gid is 1..128 characters of [A-Za-z0-9._:-]"));
}

absl::Status CheckAddress(const std::string& address) {
  if (!address.empty() && address.find_first_of(" \t\n") == std::string::npos) {
    return absl::OkStatus();
  }
  return Usage(absl::StrCat("malformed --addr \"", OneLine(address),
                            "\": give the coordinator's HOST:PORT, e.g. 127.0.0.1:7420"));
}

absl::StatusOr<TlsOptions> BuildTls(const Arguments& args) {
  TlsOptions tls{.cert_file = args.tls_cert,
                 .key_file = args.tls_key,
                 .ca_file = args.tls_ca,
                 .names = {"--tls-cert ($TCC_TLS_CERT)", "--tls-key ($TCC_TLS_KEY)",
                           "--tls-ca ($TCC_TLS_CA)"}};
  TCC_RETURN_IF_ERROR(ValidateTlsFiles(tls));
  return tls;
}

absl::StatusOr<std::string> BuildToken(const Arguments& args) {
  if (!args.token.empty() && !args.token_file.empty()) {
    return Usage(
        "both --token ($TCC_TOKEN) and --token-file ($TCC_TOKEN_FILE) are set: give one of them");
  }
  if (args.token_file.empty()) return args.token;
  std::ifstream in(args.token_file);
  std::stringstream text;
  if (in.is_open()) text << in.rdbuf();
  std::string token(absl::StripAsciiWhitespace(text.str()));
  if (token.empty()) {
    return Usage(absl::StrCat("--token-file ($TCC_TOKEN_FILE): cannot read a token from \"",
                              args.token_file, "\""));
  }
  return token;
}

absl::StatusOr<absl::Duration> ParseTimeout(const std::string& seconds) {
  double value = 0;
  if (!absl::SimpleAtod(seconds, &value) || !(value > 0) || value > 86400) {
    return Usage(absl::StrCat("malformed --timeout \"", OneLine(seconds),
                              "\": give a number of seconds, more than 0 and at most 86400"));
  }
  return absl::Seconds(value);
}

absl::StatusOr<ListOptions> BuildList(const Arguments& args) {
  ListOptions options;
  v1::ListTransactionsRequest& request = options.request;
  for (const std::string& name : args.states) {
    TCC_ASSIGN_OR_RETURN(v1::TransactionState state, ParseTransactionState(name));
    request.add_states(state);
  }
  if (!args.older_than.empty()) {
    TCC_ASSIGN_OR_RETURN(absl::Duration age, ParseDuration(args.older_than));
    request.set_older_than_ms(absl::ToInt64Milliseconds(age));
  }
  TCC_ASSIGN_OR_RETURN(uint32_t limit, ParseLimit(args.limit));
  if (!args.gid_prefix.empty() && !IsValidGid(args.gid_prefix)) {
    return Usage("malformed --gid-prefix: use characters of [A-Za-z0-9._:-], at most 128");
  }
  request.set_stuck_only(args.stuck);
  request.set_gid_prefix(args.gid_prefix);
  request.set_target(args.target);
  request.set_order(args.oldest_first ? v1::LIST_ORDER_OLDEST_FIRST : v1::LIST_ORDER_NEWEST_FIRST);
  request.set_page_size(limit);
  request.set_page_token(args.page_token);
  options.all = args.all;
  return options;
}

absl::StatusOr<v1::RetryNowRequest> BuildRetry(const Arguments& args,
                                               const std::string& default_operator) {
  if (args.gid.empty() == args.target.empty()) {
    return Usage("retry needs exactly one of GID and --target HOST:PORT");
  }
  if (!args.gid.empty()) TCC_RETURN_IF_ERROR(CheckGid(args.gid));
  v1::RetryNowRequest request;
  request.set_gid(args.gid);
  request.set_target(args.target);
  request.set_operator_(OperatorName(args, default_operator));
  return request;
}

absl::StatusOr<v1::ResolveRequest> BuildResolve(const Arguments& args,
                                                const std::string& default_operator) {
  TCC_RETURN_IF_ERROR(CheckGid(args.gid));
  TCC_ASSIGN_OR_RETURN(v1::ResolveAction action, ResolveActionOf(args));
  if (absl::StripAsciiWhitespace(args.reason).empty()) {
    return Usage("resolve needs --reason TEXT: why you force this outcome (kept in the timeline)");
  }
  if (args.reason.size() > kMaxReasonLength) {
    return Usage(absl::StrCat("--reason is ", args.reason.size(), " characters; the limit is ",
                              kMaxReasonLength));
  }
  v1::ResolveRequest request;
  request.set_gid(args.gid);
  request.set_action(action);
  request.set_reason(args.reason);
  request.set_operator_(OperatorName(args, default_operator));
  return request;
}

}  // namespace tcc::tccctl
