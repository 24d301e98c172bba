#include "tools/tccctl/commands.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "tcc/common/status_macros.h"
#include "tools/tccctl/format.h"
#include "tools/tccctl/json_convert.h"
#include "tools/tccctl/states.h"
#include "tools/tccctl/table.h"

namespace tcc::tccctl {
namespace {

// A page token the server hands back twice would loop forever.
constexpr int kMaxPages = 100000;

void PrintJson(const nlohmann::ordered_json& document, const Output& output) {
  *output.out << document.dump(2) << "\n";
}

void PrintMoreHint(const std::string& token, const Output& output) {
  *output.out << "\nmore transactions: repeat with --page-token " << token << " (or use --all)\n";
}

std::string Plural(uint64_t count, const std::string& noun) {
  return absl::StrCat(count, " ", noun, count == 1 ? "" : "s");
}

}  // namespace

absl::Status RunList(AdminApi& admin, const ListOptions& options, const Output& output) {
  v1::ListTransactionsRequest request = options.request;
  std::vector<v1::Transaction> transactions;
  std::string next_token;
  for (int page = 0; page < kMaxPages; ++page) {
    TCC_ASSIGN_OR_RETURN(v1::ListTransactionsReply reply, admin.List(request));
    for (v1::Transaction& gt : *reply.mutable_transactions()) transactions.push_back(std::move(gt));
    next_token = reply.next_page_token();
    if (!options.all || next_token.empty() || next_token == request.page_token()) break;
    request.set_page_token(next_token);
  }
  if (options.all) next_token.clear();
  if (output.json) {
    PrintJson(ListToJson(transactions, next_token, output.now), output);
    return absl::OkStatus();
  }
  RenderList(transactions, output);
  if (!next_token.empty()) PrintMoreHint(next_token, output);
  return absl::OkStatus();
}

absl::Status RunShow(AdminApi& admin, const std::string& gid, const Output& output) {
  TCC_ASSIGN_OR_RETURN(v1::TransactionDetail detail, admin.Describe(gid));
  if (output.json) {
    PrintJson(DetailToJson(detail, output.now), output);
  } else {
    RenderDetail(detail, output);
  }
  return absl::OkStatus();
}

absl::Status RunRetry(AdminApi& admin, const v1::RetryNowRequest& request, const Output& output) {
  TCC_ASSIGN_OR_RETURN(v1::RetryNowReply reply, admin.RetryNow(request));
  if (output.json) {
    PrintJson({{"transactions_rescheduled", reply.transactions()},
               {"gid", request.gid()},
               {"target", request.target()}},
              output);
    return absl::OkStatus();
  }
  std::string scope = request.gid().empty() ? "with a failing branch on " + request.target()
                                            : "(" + request.gid() + ")";
  *output.out << "rescheduled " << Plural(reply.transactions(), "transaction") << " " << scope
              << " for an immediate retry\n";
  return absl::OkStatus();
}

absl::Status RunResolve(AdminApi& admin, const v1::ResolveRequest& request, const Output& output) {
  TCC_ASSIGN_OR_RETURN(v1::ResolveReply reply, admin.Resolve(request));
  if (output.json) {
    PrintJson({{"gid", request.gid()},
               {"action", ResolveActionName(request.action())},
               {"state", StateName(reply.state())}},
              output);
    return absl::OkStatus();
  }
  *output.out << "resolved " << request.gid() << " (" << ResolveActionName(request.action())
              << "): now "
              << Paint(StateName(reply.state()), StateColor(reply.state()), output.color) << "\n";
  return absl::OkStatus();
}

absl::Status RunStats(AdminApi& admin, const Output& output) {
  TCC_ASSIGN_OR_RETURN(v1::StatsReply stats, admin.Stats());
  if (output.json) {
    PrintJson(StatsToJson(stats), output);
  } else {
    RenderStats(stats, output);
  }
  return absl::OkStatus();
}

std::string ErrorMessage(const absl::Status& status, const std::string& address,
                         const std::string& gid) {
  if (IsUnreachable(status)) {
    return absl::StrCat("cannot reach the coordinator at ", address,
                        " (is tccd running? set --addr or TCC_ADDR)");
  }
  std::string message = OneLine(std::string(status.message()));
  switch (status.code()) {
    case absl::StatusCode::kNotFound:
      if (!gid.empty()) return "no transaction with gid " + gid;
      break;
    case absl::StatusCode::kDeadlineExceeded:
      return absl::StrCat("the coordinator at ", address,
                          " did not answer in time (raise --timeout)");
    case absl::StatusCode::kUnimplemented:
      return absl::StrCat("the coordinator at ", address,
                          " does not serve the Admin API (is tccd older than tccctl?)");
    default:
      break;
  }
  if (message.empty()) return absl::StatusCodeToString(status.code());
  return message;
}

std::string ResolveActionName(v1::ResolveAction action) {
  switch (action) {
    case v1::RESOLVE_ACTION_COMMIT:
      return "commit";
    case v1::RESOLVE_ACTION_ROLLBACK:
      return "rollback";
    case v1::RESOLVE_ACTION_MARK_COMMITTED:
      return "mark-committed";
    case v1::RESOLVE_ACTION_MARK_ROLLED_BACK:
      return "mark-rolled-back";
    default:
      return "unspecified";
  }
}

}  // namespace tcc::tccctl
