// tccctl's commands, from validated arguments to output: each makes its
// Admin call(s) and writes a table or one JSON document to output.out. A
// failed call is returned untouched; the CLI (cli.h) turns it into one line
// on stderr and an exit code. Thread-compatible.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "tcc/v1/admin.pb.h"
#include "tools/tccctl/admin_client.h"
#include "tools/tccctl/render.h"

namespace tcc::tccctl {

struct ListOptions {
  v1::ListTransactionsRequest request;
  // Follow next_page_token until the last page.
  bool all = false;
};

absl::Status RunList(AdminApi& admin, const ListOptions& options, const Output& output);
absl::Status RunShow(AdminApi& admin, const std::string& gid, const Output& output);
absl::Status RunRetry(AdminApi& admin, const v1::RetryNowRequest& request, const Output& output);
absl::Status RunResolve(AdminApi& admin, const v1::ResolveRequest& request, const Output& output);
absl::Status RunStats(AdminApi& admin, const Output& output);

// The one-line message (without the "tccctl: " prefix) for a failed call to
// the coordinator at `address`; `gid` (may be empty) names the transaction
// for NOT_FOUND.
std::string ErrorMessage(const absl::Status& status, const std::string& address,
                         const std::string& gid);

// "commit", "rollback", "mark-committed", "mark-rolled-back".
std::string ResolveActionName(v1::ResolveAction action);

}  // namespace tcc::tccctl
