#include "examples/points-pay/launcher/takeover_watch.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "tcc/common/status_macros.h"

namespace pointspay {
namespace {

constexpr absl::Duration kPollEvery = absl::Milliseconds(10);

// A PostgreSQL text[] literal: {"a","b"}, with '"' and '\' escaped.
std::string ArrayLiteral(const std::vector<TextRow>& rows) {
  std::string out = "{";
  for (size_t i = 0; i < rows.size(); ++i) {
    if (i > 0) out += ',';
    out += '"';
    for (char c : rows[i][0]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

double Seconds(absl::Duration d) { return absl::ToDoubleSeconds(d); }

}  // namespace

absl::StatusOr<std::unique_ptr<TakeoverWatch>> TakeoverWatch::Start(
    const std::string& uri, std::map<std::string, std::string> addresses) {
  TCC_ASSIGN_OR_RETURN(std::unique_ptr<PostgresDb> marks, PostgresDb::Open(uri));
  TCC_ASSIGN_OR_RETURN(std::unique_ptr<PostgresDb> polls, PostgresDb::Open(uri));
  return std::unique_ptr<TakeoverWatch>(
      new TakeoverWatch(std::move(marks), std::move(polls), std::move(addresses)));
}

TakeoverWatch::TakeoverWatch(std::unique_ptr<PostgresDb> marks, std::unique_ptr<PostgresDb> polls,
                             std::map<std::string, std::string> addresses)
    : marks_(std::move(marks)), polls_(std::move(polls)), addresses_(std::move(addresses)) {
  thread_ = std::thread([this] { Loop(); });
}

TakeoverWatch::~TakeoverWatch() { Finish(absl::ZeroDuration()); }

void TakeoverWatch::Signalled(const std::string& process, ChaosEvent::Action action) {
  const absl::Time now = absl::Now();
  TakeoverSample sample{.process = process,
                        .action = action == ChaosEvent::Action::kKill ? "kill -9" : "SIGSTOP"};
  Pending pending{.signalled = now};
  absl::Status marked = Mark(sample, pending);
  if (!marked.ok()) sample.error = std::string(marked.message());
  tcc::MutexLock lock(&mu_);
  pending.sample = samples_.size();
  samples_.push_back(sample);
  if (marked.ok() && sample.owned > 0) pending_.push_back(pending);
}

absl::Status TakeoverWatch::Mark(TakeoverSample& sample, Pending& pending) {
  auto address = addresses_.find(sample.process);
  if (address == addresses_.end()) {
    return absl::NotFoundError(absl::StrCat("no address for ", sample.process));
  }
  TCC_ASSIGN_OR_RETURN(std::vector<TextRow> instance,
                       marks_->Query("SELECT instance_id FROM coordinator_instances "
                                     "WHERE address = $1 ORDER BY started_at DESC LIMIT 1",
                                     {address->second}));
  if (instance.empty()) {
    return absl::NotFoundError(absl::StrCat("no instance row for ", address->second));
  }
  sample.instance_id = instance[0][0];
  TCC_ASSIGN_OR_RETURN(std::vector<TextRow> owned,
                       marks_->Query("SELECT gid FROM global_transactions "
                                     "WHERE NOT finished AND owner = $1",
                                     {sample.instance_id}));
  sample.owned = static_cast<int>(owned.size());
  pending.gids = ArrayLiteral(owned);
  return absl::OkStatus();
}

void TakeoverWatch::Loop() {
  while (true) {
    PollOnce();
    tcc::MutexLock lock(&mu_);
    if (mu_.AwaitWithTimeout(tcc::Condition(&stop_), kPollEvery)) return;
  }
}

bool TakeoverWatch::PollOnce() {
  std::vector<Pending> pending;
  {
    tcc::MutexLock lock(&mu_);
    pending = pending_;
  }
  for (const Pending& p : pending) {
    std::string victim;
    {
      tcc::MutexLock lock(&mu_);
      victim = samples_[p.sample].instance_id;
    }
    absl::StatusOr<int64_t> left = polls_->QueryInt(
        "SELECT COUNT(*) FROM global_transactions "
        "WHERE gid = ANY($1::text[]) AND NOT finished AND owner = $2",
        {p.gids, victim});
    if (!left.ok() || *left > 0) continue;  // A failed poll is retried next round.
    const absl::Time now = absl::Now();
    tcc::MutexLock lock(&mu_);
    samples_[p.sample].took = now - p.signalled;
    pending_.erase(std::remove_if(pending_.begin(), pending_.end(),
                                  [&](const Pending& q) { return q.sample == p.sample; }),
                   pending_.end());
  }
  tcc::MutexLock lock(&mu_);
  return pending_.empty();
}

void TakeoverWatch::Finish(absl::Duration timeout) {
  {
    tcc::MutexLock lock(&mu_);
    auto drained = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return pending_.empty(); };
    mu_.AwaitWithTimeout(tcc::Condition(&drained), timeout);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

std::vector<TakeoverSample> TakeoverWatch::samples() const {
  tcc::MutexLock lock(&mu_);
  return samples_;
}

TakeoverStats TakeoverWatch::stats() const {
  TakeoverStats stats;
  std::vector<absl::Duration> times;
  for (const TakeoverSample& s : samples()) {
    ++stats.signals;
    if (s.took.has_value()) {
      times.push_back(*s.took);
    } else if (!s.error.empty()) {
      ++stats.unmeasured;
    } else if (s.owned == 0) {
      ++stats.owned_nothing;
    } else {
      ++stats.not_taken_over;
    }
  }
  stats.measured = static_cast<int>(times.size());
  if (times.empty()) return stats;
  std::sort(times.begin(), times.end());
  stats.max = times.back();
  size_t mid = times.size() / 2;
  stats.median = times.size() % 2 == 1 ? times[mid] : (times[mid - 1] + times[mid]) / 2;
  return stats;
}

std::string DescribeTakeovers(const std::vector<TakeoverSample>& samples,
                              const TakeoverStats& stats) {
  std::string text = absl::StrFormat(
      "  %-19s %d of %d coordinator kills/pauses measured: max %.2f s, median %.2f s "
      "(%d owned nothing unfinished, %d NOT taken over, %d not measurable)\n",
      "takeovers", stats.measured, stats.signals, Seconds(stats.max), Seconds(stats.median),
      stats.owned_nothing, stats.not_taken_over, stats.unmeasured);
  for (const TakeoverSample& s : samples) {
    std::string outcome = !s.error.empty() ? absl::StrCat("not measured: ", s.error)
                          : s.took       ? absl::StrFormat("taken over in %.2f s", Seconds(*s.took))
                          : s.owned == 0 ? std::string("nothing to take over")
                                         : std::string("NOT taken over");
    absl::StrAppendFormat(&text, "    %s %s (instance %s): owned %d unfinished GTs, %s\n", s.action,
                          s.process, s.instance_id, s.owned, outcome);
  }
  return text;
}

}  // namespace pointspay
