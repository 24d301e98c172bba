#include "examples/points-pay/launcher/summary.h"

#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "examples/points-pay/common/faults.h"

namespace pointspay {

FaultCounts CountFaults(const std::string& log_dir) {
  FaultCounts counts;
  std::error_code ignored;
  for (const auto& entry : std::filesystem::directory_iterator(log_dir, ignored)) {
    std::ifstream in(entry.path());
    for (std::string line; std::getline(in, line);) {
      if (!absl::StartsWith(line, "FAULT ")) continue;
      std::vector<std::string> words = absl::StrSplit(line, ' ');
      if (words.size() < 3 || !absl::StartsWith(words[2], "service=")) continue;
      counts[words[2].substr(8)][words[1]]++;
    }
  }
  return counts;
}

bool RunSummary::success() const {
  return stats != nullptr && stats->errors == 0 && unfinished == 0 && stop_status.ok() &&
         check.has_value() && check->clean() && kills_not_fired == 0 &&
         (!takeover_stats.has_value() ||
          (takeover_stats->not_taken_over == 0 && takeover_stats->unmeasured == 0));
}

namespace {

double PerSecond(int64_t n, absl::Duration d) {
  double s = absl::ToDoubleSeconds(d);
  return s > 0 ? static_cast<double>(n) / s : 0;
}

// "  label               text": the labels aligned, as in every line here.
void Line(std::ostream& out, const std::string& label, const std::string& text) {
  out << absl::StrFormat("  %-19s %s\n", label, text);
}

std::string Counts(const std::map<std::string, int>& counts, int* total) {
  std::string line;
  for (const auto& [name, count] : counts) {
    *total += count;
    if (count > 0) absl::StrAppendFormat(&line, " %s=%d", name, count);
  }
  return line;
}

bool IsLatency(const std::string& name) { return name == FaultName(Fault::kLatency); }

bool IsCrashFault(const std::string& name) {
  return name == FaultName(Fault::kCrashAfterTry) || name == FaultName(Fault::kCrashAfterConfirm);
}

// Fault firings per service, then the injected latency (a delay, not a
// failure, and far more frequent), then the restarts after crashes next to
// the crash faults that explain them.
void PrintFaults(const RunSummary& s, std::ostream& out) {
  if (!s.faults && s.fault_counts.empty()) {
    Line(out, "faults", "off");
    return;
  }
  int crash_faults = 0;
  for (const auto& [service, switches] : s.fault_counts) {
    std::string line;
    for (const auto& [name, count] : switches) {
      if (IsLatency(name)) continue;
      absl::StrAppendFormat(&line, " %s=%d", name, count);
      if (IsCrashFault(name)) crash_faults += count;
    }
    if (!line.empty()) Line(out, "faults fired", absl::StrFormat("%-15s%s", service, line));
  }
  for (const auto& [service, switches] : s.fault_counts) {
    auto latency = switches.find(FaultName(Fault::kLatency));
    if (latency == switches.end()) continue;
    Line(out, "latency injected",
         absl::StrFormat("%-15s %d calls delayed", service, latency->second));
  }
  int restarts = 0;
  std::string per_process = Counts(s.restarts_after_crash, &restarts);
  Line(out, "restarts after crash",
       absl::StrFormat("%d (%d crash faults fired)%s%s", restarts, crash_faults,
                       per_process.empty() ? "" : ":", per_process));
}

// Kills and fault firings by kind, how long the system took to settle, and
// the verdict with the seed that reproduces the run.
void PrintChaos(const RunSummary& s, std::ostream& out) {
  int kills = 0;
  std::string kill_line = Counts(s.kills, &kills);
  Line(out, "chaos kills", absl::StrFormat("%d kill -9, each restarted:%s", kills, kill_line));
  if (!s.pauses.empty()) {
    int pauses = 0;
    std::string pause_line = Counts(s.pauses, &pauses);
    Line(out, "chaos pauses",
         absl::StrFormat("%d SIGSTOP past the lease, each resumed:%s", pauses, pause_line));
  }
  if (s.takeover_stats.has_value()) out << DescribeTakeovers(s.takeovers, *s.takeover_stats);
  if (s.kills_not_fired > 0) {
    Line(out, "chaos NOT FIRED", absl::StrFormat("%d scheduled kills", s.kills_not_fired));
  }
  std::map<std::string, int> by_kind;
  for (const auto& [service, switches] : s.fault_counts) {
    for (const auto& [name, count] : switches) {
      if (!IsLatency(name)) by_kind[name] += count;
    }
  }
  int fired = 0;
  std::string fault_line = Counts(by_kind, &fired);
  Line(out, "faults by kind", absl::StrFormat("%d fired:%s", fired, fault_line));
  Line(out, "time to quiesce",
       absl::StrFormat("%.2f s after the load (%d GTs not final)",
                       absl::ToDoubleSeconds(s.settle_time), s.unfinished));
  if (s.check.has_value()) {
    Line(out, "transactions",
         absl::StrFormat("%d (%d committed, %d rolled back)", s.check->transactions,
                         s.check->committed, s.check->rolled_back));
    Line(out, "violations", absl::StrFormat("%d", s.check->violations.size()));
  }
}

// What the clients asked for and were answered. "Succeeded" counts answers,
// once per order however often it was retried; the checker's PAID counts the
// orders' final state, so it leaves out the paid orders refunded since.
void PrintLoad(const RunSummary& s, std::ostream& out) {
  const LoadStats& st = *s.stats;
  Line(out, "payments",
       absl::StrFormat("%d requested by %d concurrent clients", s.payments, s.concurrency));
  Line(out, "payments succeeded",
       absl::StrFormat("%d (orders paid; %d of them refunded since)", st.paid.load(),
                       st.refunded.load()));
  Line(out, "payments refused",
       absl::StrFormat("%d (not enough points or already paid)", st.refused.load()));
  Line(out, "refunds succeeded",
       absl::StrFormat("%d of %d requested (%d refused)", st.refunded.load(),
                       st.refunds_requested.load(), st.refunds_refused.load()));
  Line(out, "duplicates absorbed",
       absl::StrFormat("%d of %d sent twice at once (%d replayed replies)",
                       st.duplicates_absorbed.load(), st.duplicates_sent.load(),
                       st.replayed.load()));
  Line(out, "retried",
       absl::StrFormat("%d same-id retries, %d aborted then new id", st.retries.load(),
                       st.aborted.load()));
  Line(out, "errors", absl::StrFormat("%d", st.errors.load()));
  for (const std::string& e : s.error_samples) out << "    " << e << "\n";
}

}  // namespace

void PrintSummary(const RunSummary& s, std::ostream& out) {
  const LoadStats& st = *s.stats;
  out << "\n== points-pay summary ==\n";
  if (!s.coordinators.empty()) Line(out, "coordinators", s.coordinators);
  PrintLoad(s, out);
  PrintFaults(s, out);
  Line(out, "elapsed",
       absl::StrFormat("%.2f s load + %.2f s until every GT final",
                       absl::ToDoubleSeconds(s.load_time), absl::ToDoubleSeconds(s.settle_time)));
  // Each payment and refund counts once, however many requests it took.
  int64_t finished = st.payments_done + st.refunds_requested;
  Line(out, "rate",
       absl::StrFormat("%.0f payments+refunds/s (%d payments + %d refunds finished during the "
                       "load, each counted once however often it was retried)",
                       PerSecond(finished, s.load_time), st.payments_done.load(),
                       st.refunds_requested.load()));
  if (s.unfinished > 0) {
    Line(out, "NOT FINAL", absl::StrFormat("%d global transactions", s.unfinished));
  }
  if (!s.stop_status.ok()) Line(out, "stop", std::string(s.stop_status.message()));
  if (s.check.has_value()) {
    PrintReport(*s.check, out);
  } else {
    out << "checker: could not run: " << s.check_status.message() << "\n";
  }
  if (s.chaos) PrintChaos(s, out);
  out << "data dir: " << s.data_dir << "\n";
  if (s.chaos) out << (s.success() ? "CHAOS PASS" : "CHAOS FAIL") << " seed " << s.seed << "\n";
  out << (s.success() ? "RESULT: OK" : "RESULT: FAILED") << "\n";
}

}  // namespace pointspay
