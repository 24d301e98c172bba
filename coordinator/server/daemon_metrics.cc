#include "coordinator/server/daemon_metrics.h"

#include <algorithm>
#include <filesystem>

#include "absl/strings/ascii.h"
#include "common/build_info/build_info.h"
#include "coordinator/server/rpc_metrics.h"

namespace tcc {
namespace {

using metrics::CallbackGaugeFamily;

const std::vector<double>& TransactionBuckets() {  // Seconds, Begin to final.
  static const std::vector<double> buckets = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5,  1,   2.5,
                                              5,    10,    30,   60,  300,  1800, 3600};
  return buckets;
}

const std::vector<double>& CommitBuckets() {  // Seconds: one fsync.
  static const std::vector<double> buckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                              0.01,   0.025,   0.05,   0.1,   0.25,   1};
  return buckets;
}

const std::vector<double>& BatchBuckets() {  // Operations; the queue's max_batch is 2048.
  static const std::vector<double> buckets = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048};
  return buckets;
}

const char* ModeLabel(TxMode mode) { return mode == TxMode::kTcc ? "tcc" : "saga"; }

std::string Lower(absl::string_view name) { return absl::AsciiStrToLower(name); }

const char* OutcomeLabel(CallOutcome outcome) {
  switch (outcome) {
    case CallOutcome::kSuccess:
      return "success";
    case CallOutcome::kRefused:
      return "refused";
    case CallOutcome::kUnknown:
      return "unknown";
  }
  return "unknown";
}

const char* AnswerLabel(BackQueryOutcome outcome) {
  switch (outcome) {
    case BackQueryOutcome::kCommitted:
      return "committed";
    case BackQueryOutcome::kRolledBack:
      return "rolled_back";
    case BackQueryOutcome::kFailed:
      return "failed";
  }
  return "failed";
}

constexpr size_t kQueryPhase = 3;  // After Phase's try, confirm, cancel.

CallbackGaugeFamily::Samples UnfinishedSamples(const UnfinishedSummary& summary) {
  CallbackGaugeFamily::Samples samples;
  for (TxState state : {TxState::kTrying, TxState::kCommitting, TxState::kRollingBack,
                        TxState::kRunning, TxState::kCompensating}) {
    auto it = summary.by_state.find(state);
    double count = it == summary.by_state.end() ? 0 : static_cast<double>(it->second);
    samples.push_back({{Lower(TxStateName(state))}, count});
  }
  return samples;
}

}  // namespace

DaemonMetrics::DaemonMetrics(metrics::Registry* registry, const std::string& store)
    : registry_(registry),
      started_(registry->AddCounter("tcc_transactions_started_total",
                                    "Transactions created (durable), by mode.", {"mode"})),
      finished_(registry->AddCounter("tcc_transactions_finished_total",
                                     "Transactions whose final state is durable, by mode and "
                                     "outcome.",
                                     {"mode", "outcome"})),
      duration_(registry->AddHistogram("tcc_transaction_duration_seconds",
                                       "Time from a transaction's creation to its durable final "
                                       "state.",
                                       {"mode"}, TransactionBuckets())),
      calls_(registry->AddCounter("tcc_participant_calls_total",
                                  "Calls to participants (try, confirm, cancel; saga actions "
                                  "count as try, compensations as cancel) and back-queries to "
                                  "initiators (query), by outcome.",
                                  {"phase", "outcome"})),
      batches_(registry->AddCounter("tcc_participant_batches_total",
                                    "Batch calls (ConfirmBatch / CancelBatch) sent to participants "
                                    "whose Confirms or Cancels queued up, by phase.",
                                    {"phase"})),
      batched_calls_(registry->AddCounter("tcc_participant_batched_calls_total",
                                          "Confirms / Cancels sent inside batch calls, by phase "
                                          "(also counted in tcc_participant_calls_total).",
                                          {"phase"})),
      call_duration_(registry->AddHistogram(
          "tcc_participant_call_duration_seconds",
          "Latency of participant calls and back-queries, including failed ones.", {"phase"},
          LatencyBuckets())),
      batch_size_(registry
                      ->AddHistogram("tcc_store_batch_size",
                                     "Store operations committed together (group commit).", {},
                                     BatchBuckets())
                      .Get()),
      commit_duration_(registry
                           ->AddHistogram("tcc_store_commit_duration_seconds",
                                          "Time to commit one batch (the fsync).", {},
                                          CommitBuckets())
                           .Get()),
      store_errors_(registry
                        ->AddCounter("tcc_store_errors_total",
                                     "Store batches that failed to begin or commit.")
                        .Get()),
      store_replays_(registry
                         ->AddCounter("tcc_store_batches_replayed_total",
                                      "Store batches run a second time, one answer at a time, "
                                      "because a write sent without waiting (PostgreSQL) was "
                                      "not answered as presumed.")
                         .Get()),
      retention_deleted_(registry
                             ->AddCounter("tcc_retention_deleted_total",
                                          "Finished transactions deleted by retention.")
                             .Get()),
      retention_archived_(registry
                              ->AddCounter("tcc_retention_archived_total",
                                           "Finished transactions archived (--archive_dir) "
                                           "before retention deleted them.")
                              .Get()),
      retention_errors_(registry
                            ->AddCounter("tcc_retention_errors_total",
                                         "Retention batches that failed (archive or store); "
                                         "they deleted nothing and are tried again.")
                            .Get()),
      claims_(registry->AddCounter("tcc_ownership_claims_total",
                                   "Transactions this instance claimed (PostgreSQL store): "
                                   "taken over from a dead or departed instance, or moved here "
                                   "by a request (a decision at a non-owner).",
                                   {"how"})),
      taken_over_(claims_.WithLabels({"takeover"})),
      claimed_by_request_(claims_.WithLabels({"request"})),
      fenced_writes_(registry
                         ->AddCounter("tcc_fenced_writes_total",
                                      "Writes refused because another instance had claimed the "
                                      "transaction; this instance dropped it.")
                         .Get()) {
  registry
      ->AddGauge("tcc_build_info", "Always 1; the labels say which tccd this is.",
                 {"version", "store"})
      .WithLabels({std::string(build_info::Version()), store})
      .Set(1);
  for (TxMode mode : {TxMode::kTcc, TxMode::kSaga}) {
    size_t index = static_cast<size_t>(mode);
    started_by_mode_[index] = &started_.WithLabels({ModeLabel(mode)});
    duration_by_mode_[index] = &duration_.WithLabels({ModeLabel(mode)});
  }
  for (TxMode mode : {TxMode::kTcc, TxMode::kSaga}) {
    for (TxState state : {TxState::kCommitted, TxState::kRolledBack}) {
      finished_.WithLabels({ModeLabel(mode), Lower(TxStateName(state))});  // 0 from the start.
    }
  }
  for (Phase phase : {Phase::kTry, Phase::kConfirm, Phase::kCancel}) {
    std::string name = Lower(PhaseName(phase));
    for (CallOutcome outcome :
         {CallOutcome::kSuccess, CallOutcome::kRefused, CallOutcome::kUnknown}) {
      calls_by_phase_outcome_[static_cast<size_t>(phase)][static_cast<size_t>(outcome)] =
          &calls_.WithLabels({name, OutcomeLabel(outcome)});
    }
    call_duration_by_phase_[static_cast<size_t>(phase)] = &call_duration_.WithLabels({name});
    if (phase == Phase::kTry) continue;  // Never batched.
    batches_by_phase_[static_cast<size_t>(phase)] = &batches_.WithLabels({name});
    batched_calls_by_phase_[static_cast<size_t>(phase)] = &batched_calls_.WithLabels({name});
  }
  for (BackQueryOutcome outcome :
       {BackQueryOutcome::kCommitted, BackQueryOutcome::kRolledBack, BackQueryOutcome::kFailed}) {
    queries_by_answer_[static_cast<size_t>(outcome)] =
        &calls_.WithLabels({"query", AnswerLabel(outcome)});
  }
  call_duration_by_phase_[kQueryPhase] = &call_duration_.WithLabels({"query"});
}

void DaemonMetrics::WatchEngine(const TransactionEngine* engine, const Clock* clock) {
  registry_->AddCallbackGauge("tcc_transactions_unfinished",
                              "Transactions not final yet, by state.", {"state"},
                              [engine] { return UnfinishedSamples(engine->Unfinished()); });
  registry_->AddCallbackGauge(
      "tcc_transactions_stuck", "Unfinished transactions flagged stuck (see tccctl).", {},
      [engine] {
        return CallbackGaugeFamily::Samples{{{}, static_cast<double>(engine->Unfinished().stuck)}};
      });
  registry_->AddCallbackGauge(
      "tcc_oldest_unfinished_transaction_age_seconds",
      "Age of the oldest unfinished transaction; 0 when there is none.", {}, [engine, clock] {
        int64_t oldest = engine->Unfinished().oldest_created_ms;
        double age = oldest == 0 ? 0 : std::max<int64_t>(0, clock->NowMs() - oldest) / 1000.0;
        return CallbackGaugeFamily::Samples{{{}, age}};
      });
}

void DaemonMetrics::WatchStore(const StoreQueue* queue) {
  registry_->AddCallbackGauge(
      "tcc_store_queue_depth", "Store operations queued or waiting for their completion to run.",
      {}, [queue] {
        return CallbackGaugeFamily::Samples{{{}, static_cast<double>(queue->depth())}};
      });
}

void DaemonMetrics::WatchStoreFile(std::string path) {
  registry_->AddCallbackGauge(
      "tcc_store_file_bytes", "The store's files on disk (database and write-ahead log).", {},
      [path = std::move(path)] {
        uint64_t bytes = 0;
        for (const std::string& file : {path, path + "-wal"}) {
          std::error_code error;
          uintmax_t size = std::filesystem::file_size(file, error);
          if (!error) bytes += size;
        }
        return CallbackGaugeFamily::Samples{{{}, static_cast<double>(bytes)}};
      });
}

void DaemonMetrics::RetentionBatchFinished(size_t deleted, size_t archived,
                                           const absl::Status& status) {
  if (!status.ok()) {
    retention_errors_.Increment();
    return;
  }
  retention_deleted_.Increment(deleted);
  retention_archived_.Increment(archived);
}

void DaemonMetrics::TransactionStarted(TxMode mode) {
  started_by_mode_[static_cast<size_t>(mode)]->Increment();
}

void DaemonMetrics::TransactionFinished(TxMode mode, TxState final_state, absl::Duration age) {
  finished_.WithLabels({ModeLabel(mode), Lower(TxStateName(final_state))}).Increment();
  duration_by_mode_[static_cast<size_t>(mode)]->Observe(absl::ToDoubleSeconds(age));
}

void DaemonMetrics::ParticipantCallFinished(Phase phase, CallOutcome outcome,
                                            absl::Duration latency) {
  calls_by_phase_outcome_[static_cast<size_t>(phase)][static_cast<size_t>(outcome)]->Increment();
  call_duration_by_phase_[static_cast<size_t>(phase)]->Observe(absl::ToDoubleSeconds(latency));
}

void DaemonMetrics::BatchSent(Phase phase, size_t calls) {
  metrics::Counter* batches = batches_by_phase_[static_cast<size_t>(phase)];
  if (batches == nullptr) return;
  batches->Increment();
  batched_calls_by_phase_[static_cast<size_t>(phase)]->Increment(calls);
}

void DaemonMetrics::BackQueryFinished(BackQueryOutcome outcome, absl::Duration latency) {
  queries_by_answer_[static_cast<size_t>(outcome)]->Increment();
  call_duration_by_phase_[kQueryPhase]->Observe(absl::ToDoubleSeconds(latency));
}

void DaemonMetrics::TransactionsTakenOver(size_t count) { taken_over_.Increment(count); }

void DaemonMetrics::TransactionClaimed() { claimed_by_request_.Increment(); }

void DaemonMetrics::WriteFenced() { fenced_writes_.Increment(); }

void DaemonMetrics::BatchReplayed() { store_replays_.Increment(); }

void DaemonMetrics::BatchFinished(size_t operations, absl::Duration commit,
                                  const absl::Status& status) {
  batch_size_.Observe(static_cast<double>(operations));
  if (status.ok()) {
    commit_duration_.Observe(absl::ToDoubleSeconds(commit));
  } else {
    store_errors_.Increment();
  }
}

}  // namespace tcc
