#include "tools/tccctl/render.h"

#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "tools/tccctl/format.h"
#include "tools/tccctl/states.h"
#include "tools/tccctl/summary.h"
#include "tools/tccctl/table.h"

namespace tcc::tccctl {
namespace {

using Fields = std::vector<std::pair<std::string, Cell>>;

// Long cells: cut to the terminal by the table, or to a fixed width when
// the terminal width is unknown.
std::string FitCell(const std::string& text, const Output& output) {
  return output.width == 0 ? Truncate(OneLine(text), kDefaultCellWidth) : text;
}

void RenderTable(Table& table, const Output& output) {
  if (output.width != 0) table.SetMaxWidth(output.width);
  table.Render(*output.out, output.color);
}

// "label:  value" lines with the values aligned.
void RenderFields(const Fields& fields, const Output& output) {
  size_t width = 0;
  for (const auto& [label, value] : fields) width = std::max(width, label.size());
  for (const auto& [label, value] : fields) {
    *output.out << "  " << label << ":" << std::string(width - label.size() + 2, ' ')
                << Paint(value.text, value.color, output.color) << "\n";
  }
}

Cell StateCell(v1::TransactionState state) { return Cell(StateName(state), StateColor(state)); }

std::string LastErrorText(const v1::Transaction& gt) {
  const v1::Branch* branch = FirstFailingBranch(gt);
  if (branch == nullptr) return "";
  return absl::StrCat(branch->target(), ": ", branch->last_error());
}

std::string StuckText(const v1::TransactionDetail& detail, const Output& output) {
  const v1::Transaction& gt = detail.transaction();
  if (!gt.stuck()) return "no";
  int64_t since = StuckSinceMillis(detail);
  if (since == 0) return absl::StrCat("yes (age ", HumanMillis(AgeMillis(gt, output.now)), ")");
  return absl::StrCat("yes, for ", HumanDuration(output.now - absl::FromUnixMillis(since)),
                      " (since ", FormatTime(since, output.zone), ")");
}

// The deadline matters only until the decision.
std::string DeadlineText(const v1::Transaction& gt, const Output& output) {
  if (gt.state() == v1::TRANSACTION_STATE_TRYING || gt.deadline_unix_ms() == 0) {
    return FormatTimeWithAge(gt.deadline_unix_ms(), output.now, output.zone);
  }
  return FormatTime(gt.deadline_unix_ms(), output.zone) + " (decided; applies only while TRYING)";
}

void RenderHeader(const v1::TransactionDetail& detail, const Output& output) {
  const v1::Transaction& gt = detail.transaction();
  *output.out << "Transaction " << Paint(gt.gid(), Color::kBold, output.color) << "\n";
  Fields fields = {
      {"State", StateCell(gt.state())},
      {"Mode", gt.mode().empty() ? "TCC" : gt.mode()},
      {"Decision", gt.decision_reason().empty() ? "-" : gt.decision_reason()},
      {"Stuck", Cell(StuckText(detail, output), gt.stuck() ? Color::kRed : Color::kNone)},
      {"Created", FormatTimeWithAge(gt.created_unix_ms(), output.now, output.zone)},
      {"Updated", FormatTimeWithAge(gt.updated_unix_ms(), output.now, output.zone)},
      {"Age", HumanMillis(AgeMillis(gt, output.now))},
      {"Deadline", DeadlineText(gt, output)},
      {"Timeout", gt.timeout_ms() == 0 ? "-" : HumanMillis(gt.timeout_ms())},
      {"Status endpoint", gt.status_endpoint().empty() ? "-" : gt.status_endpoint()}};
  // Several instances on one PostgreSQL database: who drives it, and the
  // epoch of that instance's claim.
  if (!gt.owner().empty() || gt.epoch() != 0) {
    fields.push_back({"Owner", gt.owner().empty()
                                   ? absl::StrCat("- (released; epoch ", gt.epoch(), ")")
                                   : absl::StrCat(gt.owner(), " (epoch ", gt.epoch(), ")")});
  }
  if (!gt.traceparent().empty()) fields.push_back({"Trace", gt.traceparent()});
  RenderFields(fields, output);
}

std::string NextRetryText(int64_t next_retry_unix_ms, const Output& output) {
  if (next_retry_unix_ms == 0) return "-";
  absl::Duration wait = absl::FromUnixMillis(next_retry_unix_ms) - output.now;
  if (wait <= absl::ZeroDuration()) return "due now";
  return "in " + HumanDuration(wait);
}

std::string NextRetryText(const v1::Branch& branch, const Output& output) {
  return NextRetryText(branch.next_retry_unix_ms(), output);
}

// The back-queries of a TRYING transaction past its deadline, like a
// branch's attempts: absent until the first one was sent.
void RenderBackQuery(const v1::TransactionDetail& detail, const Output& output) {
  if (!detail.has_back_query()) return;
  const v1::BackQuery& query = detail.back_query();
  *output.out << "\nBack-query (status endpoint " << query.endpoint() << ")\n";
  std::string attempts = std::to_string(query.attempts());
  if (query.failed_attempts() > 0) {
    absl::StrAppend(&attempts, " (", query.failed_attempts(), " failed in a row)");
  }
  bool failing = !query.last_error().empty();
  RenderFields(
      {{"Attempts", attempts},
       {"Last attempt", FormatTimeWithAge(query.last_attempt_unix_ms(), output.now, output.zone)},
       {"Last error",
        Cell(failing ? query.last_error() : "-", failing ? Color::kRed : Color::kNone)},
       {"Next retry", NextRetryText(query.next_retry_unix_ms(), output)}},
      output);
}

void RenderBranches(const v1::Transaction& gt, const Output& output) {
  *output.out << "\nBranches (" << BranchesDone(gt) << "/" << gt.branches_size() << " done)\n";
  Table table({"BRANCH", "TARGET", "ACTION", "STATE", "ATTEMPTS", "NEXT RETRY", "LAST ERROR"});
  for (const v1::Branch& branch : gt.branches()) {
    table.AddRow({branch.branch_id(), branch.target(), branch.action(),
                  Cell(StateName(branch.state()), StateColor(branch.state())),
                  std::to_string(branch.attempts()), NextRetryText(branch, output),
                  Cell(FitCell(branch.last_error(), output), Color::kRed)});
  }
  RenderTable(table, output);
}

// A saga's branches are its steps; each may wait for others (depends_on).
void RenderSteps(const v1::Transaction& saga, const Output& output) {
  *output.out << "\nSteps (" << BranchesDone(saga) << "/" << saga.branches_size() << " done)\n";
  Table table(
      {"STEP", "TARGET", "ACTION", "STATE", "DEPENDS ON", "ATTEMPTS", "NEXT RETRY", "LAST ERROR"});
  for (const v1::Branch& step : saga.branches()) {
    std::string depends_on = absl::StrJoin(step.depends_on(), ",");
    table.AddRow({step.branch_id(), step.target(), step.action(),
                  Cell(StateName(step.state()), StateColor(step.state())),
                  depends_on.empty() ? "-" : depends_on, std::to_string(step.attempts()),
                  NextRetryText(step, output),
                  Cell(FitCell(step.last_error(), output), Color::kRed)});
  }
  RenderTable(table, output);
}

// The coordinator records a saga step's events with the protocol's kind
// "branch"; people reading a saga see "step".
std::string KindText(const v1::TransactionDetail& detail, const std::string& kind) {
  return kind == "branch" && IsSaga(detail.transaction()) ? "step" : kind;
}

void RenderTimeline(const v1::TransactionDetail& detail, const Output& output) {
  *output.out << "\nTimeline\n";
  Table table({"TIME", "ACTOR", "KIND", "DETAIL"});
  for (const v1::TimelineEvent& event : detail.timeline()) {
    Color color = event.kind() == "stuck" ? Color::kRed : Color::kNone;
    if (event.kind() == "operator") color = Color::kMagenta;
    table.AddRow({FormatTime(event.unix_ms(), output.zone), event.actor(),
                  Cell(KindText(detail, event.kind()), color), event.detail()});
  }
  table.Render(*output.out, output.color);  // Details are never cut: they are the story.
}

// For a transaction that is not final and is failing: what to do next.
void RenderNextSteps(const v1::TransactionDetail& detail, const Output& output) {
  const v1::Transaction& gt = detail.transaction();
  const v1::Branch* failing = FirstFailingBranch(gt);
  bool query_failing =
      gt.state() == v1::TRANSACTION_STATE_TRYING && !detail.back_query().last_error().empty();
  if (IsFinal(gt.state()) || (failing == nullptr && !query_failing && !gt.stuck())) return;
  *output.out << "\nNext steps:\n";
  if (failing != nullptr) {
    *output.out << "  fix or restart the participant at " << failing->target() << ", then\n";
  }
  if (query_failing) {
    *output.out << "  fix or restart the initiator's status endpoint at "
                << detail.back_query().endpoint() << ", then\n";
  }
  *output.out << "  tccctl retry " << gt.gid() << "        retry now instead of after the backoff\n"
              << "  tccctl resolve " << gt.gid()
              << " ...  last resort (see tccctl resolve --help)\n";
}

// The list's done/all column counts branches of TCC transactions and steps
// of sagas; its header names what the rows hold.
std::string ProgressHeader(const std::vector<v1::Transaction>& transactions) {
  size_t sagas = std::count_if(transactions.begin(), transactions.end(), IsSaga);
  if (sagas == 0) return "BRANCHES";
  return sagas == transactions.size() ? "STEPS" : "BRANCHES/STEPS";
}

Cell StuckCell(bool stuck) { return stuck ? Cell("stuck", Color::kRed) : Cell(""); }

// Every known state in the protocol's order (zero when absent), then any state
// name a newer tccd reports that this tccctl does not know.
void RenderStateCounts(const v1::StatsReply& stats, const Output& output) {
  Table table({"STATE", "TRANSACTIONS"});
  std::set<std::string> shown;
  for (v1::TransactionState state : AllTransactionStates()) {
    auto it = stats.transactions_by_state().find(StateName(state));
    uint64_t count = it == stats.transactions_by_state().end() ? 0 : it->second;
    table.AddRow({StateCell(state), std::to_string(count)});
    shown.insert(StateName(state));
  }
  std::map<std::string, uint64_t> others;
  for (const auto& [name, count] : stats.transactions_by_state()) {
    if (!shown.contains(name)) others[name] = count;
  }
  for (const auto& [name, count] : others) table.AddRow({name, std::to_string(count)});
  table.Render(*output.out, output.color);
}

// What fails on a target: branches of a participant, back-queries to a
// status endpoint.
std::string FailingText(const v1::TargetFailures& target) {
  if (target.role() == v1::TARGET_ROLE_STATUS_ENDPOINT) {
    uint32_t count = target.failing_back_queries();
    return absl::StrCat(count, count == 1 ? " back-query" : " back-queries");
  }
  uint32_t count = target.failing_branches();
  return absl::StrCat(count, count == 1 ? " branch" : " branches");
}

// Several tccd instances on one PostgreSQL database: who is alive, on the
// database's clock. Nothing with SQLite.
void RenderInstances(const v1::StatsReply& stats, const Output& output) {
  if (stats.instances().empty()) return;
  *output.out << "\n";
  Table table({"INSTANCE", "ADDRESS", "LAST HEARTBEAT", "STATE"});
  for (const v1::CoordinatorInstance& instance : stats.instances()) {
    table.AddRow({instance.instance_id(), instance.address(),
                  absl::StrCat(HumanMillis(instance.heartbeat_age_ms()), " ago"),
                  instance.live() ? Cell("live")
                                  : Cell("dead: its transactions are taken over", Color::kRed)});
  }
  RenderTable(table, output);
}

void RenderFailingTargets(const v1::StatsReply& stats, const Output& output) {
  if (stats.failing_targets().empty()) return;
  *output.out << "\n";
  Table table({"FAILING TARGET", "ROLE", "FAILING", "FAILED ATTEMPTS", "LAST ERROR"});
  for (const v1::TargetFailures& target : stats.failing_targets()) {
    table.AddRow({target.target(), TargetRoleText(target.role()), FailingText(target),
                  std::to_string(target.failed_attempts()),
                  Cell(FitCell(target.last_error(), output), Color::kRed)});
  }
  RenderTable(table, output);
}

std::string HumanBytes(uint64_t bytes) {
  if (bytes < 1024) return absl::StrCat(bytes, " B");
  constexpr std::array<const char*, 4> kUnits = {"KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes) / 1024;
  size_t unit = 0;
  while (value >= 1024 && unit + 1 < kUnits.size()) {
    value /= 1024;
    ++unit;
  }
  return absl::StrFormat("%.1f %s", value, kUnits[unit]);
}

std::string RetentionText(const v1::RetentionStatus& retention) {
  if (retention.retention_s() == 0) return "off (finished transactions are kept)";
  return absl::StrCat(HumanMillis(retention.retention_s() * 1000), " after they finish",
                      retention.archiving() ? ", archived first" : "");
}

std::string LastPruningText(const v1::RetentionStatus& retention) {
  if (retention.retention_s() == 0) return "-";
  std::string when = retention.last_pruning_age_ms() == 0
                         ? "none yet"
                         : absl::StrCat(HumanMillis(retention.last_pruning_age_ms()), " ago");
  return absl::StrCat(
      when, "; ", retention.deleted(), " deleted",
      retention.archiving() ? absl::StrCat(", ", retention.archived(), " archived") : "",
      " since tccd started");
}

// What the store holds on disk and what retention does about it.
void RenderStorage(const v1::StatsReply& stats, const Output& output) {
  uint64_t rows = 0;
  for (const auto& [unused, count] : stats.transactions_by_state()) rows += count;
  *output.out << "\n";
  RenderFields(
      {{"Store size", absl::StrCat(HumanBytes(stats.store_bytes()), " (",
                                   HumanBytes(stats.store_free_bytes()), " free for reuse)")},
       {"Transactions stored", std::to_string(rows)},
       {"Oldest finished",
        stats.oldest_finished_age_ms() == 0 ? "-" : HumanMillis(stats.oldest_finished_age_ms())},
       {"Retention", RetentionText(stats.retention())},
       {"Last pruning", LastPruningText(stats.retention())}},
      output);
}

}  // namespace

void RenderList(const std::vector<v1::Transaction>& transactions, const Output& output) {
  if (transactions.empty()) {
    *output.out << "no matching transactions\n";
    return;
  }
  Table table({"GID", "STATE", "AGE", "STUCK", ProgressHeader(transactions), "LAST ERROR"});
  for (const v1::Transaction& gt : transactions) {
    table.AddRow({gt.gid(), StateCell(gt.state()), HumanMillis(AgeMillis(gt, output.now)),
                  StuckCell(gt.stuck()), absl::StrCat(BranchesDone(gt), "/", gt.branches_size()),
                  Cell(FitCell(LastErrorText(gt), output), Color::kRed)});
  }
  RenderTable(table, output);
}

void RenderDetail(const v1::TransactionDetail& detail, const Output& output) {
  RenderHeader(detail, output);
  RenderBackQuery(detail, output);
  if (IsSaga(detail.transaction())) {
    RenderSteps(detail.transaction(), output);
  } else {
    RenderBranches(detail.transaction(), output);
  }
  RenderTimeline(detail, output);
  RenderNextSteps(detail, output);
}

void RenderStats(const v1::StatsReply& stats, const Output& output) {
  RenderStateCounts(stats, output);
  *output.out << "\n";
  RenderFields({{"Stuck", Cell(std::to_string(stats.stuck()),
                               stats.stuck() > 0 ? Color::kRed : Color::kNone)},
                {"Oldest unfinished", stats.oldest_unfinished_age_ms() == 0
                                          ? "-"
                                          : HumanMillis(stats.oldest_unfinished_age_ms())}},
               output);
  RenderStorage(stats, output);
  RenderFailingTargets(stats, output);
  RenderInstances(stats, output);
}

}  // namespace tcc::tccctl
