// The --json documents of tccctl, built from Admin replies. Field names are
// snake_case, times are Unix milliseconds (numbers, not strings), states use
// the short names ("COMMITTING"), fields keep the documented order, and a
// few derived fields (age_ms, branches_done, failing_branch) save scripts
// from re-deriving them.
// tools/tccctl/README.md documents every field; keep the two in step.
// Stateless and thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include "absl/time/time.h"
#include "tcc/v1/admin.pb.h"

namespace tcc::tccctl {

nlohmann::ordered_json BranchToJson(const v1::Branch& branch);
// `now` gives age_ms.
nlohmann::ordered_json TransactionToJson(const v1::Transaction& gt, absl::Time now);
nlohmann::ordered_json TimelineEventToJson(const v1::TimelineEvent& event);
nlohmann::ordered_json DetailToJson(const v1::TransactionDetail& detail, absl::Time now);
// `transactions` may gather several pages (list --all).
nlohmann::ordered_json ListToJson(const std::vector<v1::Transaction>& transactions,
                                  const std::string& next_page_token, absl::Time now);
nlohmann::ordered_json StatsToJson(const v1::StatsReply& stats);

}  // namespace tcc::tccctl
