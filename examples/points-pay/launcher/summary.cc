#include "examples/points-pay/launcher/summary.h"

#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

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
         check.has_value() && check->clean() && kills_not_fired == 0;
}

namespace {

double PerSecond(int64_t n, absl::Duration d) {
  double s = absl::ToDoubleSeconds(d);
  return s > 0 ? static_cast<double>(n) / s : 0;
}

void PrintFaults(const RunSummary& s, std::ostream& out) {
  if (!s.faults && s.fault_counts.empty()) {
    out << "  faults              off\n";
    return;
  }
  for (const auto& [service, switches] : s.fault_counts) {
    std::string line;
    for (const auto& [name, count] : switches) absl::StrAppendFormat(&line, " %s=%d", name, count);
    out << absl::StrFormat("  faults fired        %-15s%s\n", service, line);
  }
  std::string restarts;
  int total = 0;
  for (const auto& [name, count] : s.restarts) {
    total += count;
    if (count > 0) absl::StrAppendFormat(&restarts, " %s=%d", name, count);
  }
  out << absl::StrFormat("  restarts            %d%s\n", total, restarts);
}

std::string Counts(const std::map<std::string, int>& counts, int* total) {
  std::string line;
  for (const auto& [name, count] : counts) {
    *total += count;
    absl::StrAppendFormat(&line, " %s=%d", name, count);
  }
  return line;
}

// Kills and fault firings by kind, how long the system took to settle, and
// the verdict with the seed that reproduces the run.
void PrintChaos(const RunSummary& s, std::ostream& out) {
  int kills = 0;
  std::string kill_line = Counts(s.kills, &kills);
  out << absl::StrFormat("  chaos kills         %d kill -9:%s\n", kills, kill_line);
  if (s.kills_not_fired > 0) {
    out << absl::StrFormat("  chaos NOT FIRED     %d scheduled kills\n", s.kills_not_fired);
  }
  std::map<std::string, int> by_kind;
  for (const auto& [service, switches] : s.fault_counts) {
    for (const auto& [name, count] : switches) by_kind[name] += count;
  }
  int fired = 0;
  std::string fault_line = Counts(by_kind, &fired);
  out << absl::StrFormat("  faults by kind      %d fired:%s\n", fired, fault_line);
  out << absl::StrFormat("  time to quiesce     %.2f s after the load (%d GTs not final)\n",
                         absl::ToDoubleSeconds(s.settle_time), s.unfinished);
  if (s.check.has_value()) {
    out << absl::StrFormat("  transactions        %d (%d committed, %d rolled back)\n",
                           s.check->transactions, s.check->committed, s.check->rolled_back);
    out << absl::StrFormat("  violations          %d\n", s.check->violations.size());
  }
}

}  // namespace

void PrintSummary(const RunSummary& s, std::ostream& out) {
  const LoadStats& st = *s.stats;
  int64_t operations = st.payments_done + st.refunds_requested;
  out << "\n== points-pay summary ==\n";
  out << absl::StrFormat("  payments            %d requested by %d concurrent clients\n",
                         s.payments, s.concurrency);
  out << absl::StrFormat("  paid                %d\n", st.paid.load());
  out << absl::StrFormat("  refused             %d (not enough points or already paid)\n",
                         st.refused.load());
  out << absl::StrFormat("  refunded            %d of %d refunds (%d refused)\n",
                         st.refunded.load(), st.refunds_requested.load(),
                         st.refunds_refused.load());
  out << absl::StrFormat(
      "  duplicates absorbed %d of %d sent twice at once (%d replayed replies)\n",
      st.duplicates_absorbed.load(), st.duplicates_sent.load(), st.replayed.load());
  out << absl::StrFormat("  retried             %d same-id retries, %d aborted then new id\n",
                         st.retries.load(), st.aborted.load());
  out << absl::StrFormat("  errors              %d\n", st.errors.load());
  for (const std::string& e : s.error_samples) out << "    " << e << "\n";
  PrintFaults(s, out);
  out << absl::StrFormat("  elapsed             %.2f s load + %.2f s until every GT final\n",
                         absl::ToDoubleSeconds(s.load_time), absl::ToDoubleSeconds(s.settle_time));
  out << absl::StrFormat("  throughput          %.0f tx/s (%d payments + refunds)\n",
                         PerSecond(operations, s.load_time), operations);
  if (s.unfinished > 0) {
    out << absl::StrFormat("  NOT FINAL           %d global transactions\n", s.unfinished);
  }
  if (!s.stop_status.ok()) out << "  stop                " << s.stop_status.message() << "\n";
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
