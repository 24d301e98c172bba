// ParticipantMetrics: what a participant's barrier and handlers did, as
// Prometheus counters, for the service to serve on a port of its own (the
// SDK opens none). Give one to ParticipantServerOptions::metrics and
// serve RenderPrometheus() at /metrics with whatever HTTP server the
// service already runs:
//
//   auto metrics = std::make_shared<tcc::sdk::ParticipantMetrics>();
//   tcc::sdk::ParticipantServer server(db, {.metrics = metrics});
//   ...  // GET /metrics -> metrics->RenderPrometheus(),
//        //   Content-Type: tcc::sdk::ParticipantMetrics::kContentType
//
// Families (text format 0.0.4; no gid or branch id in labels):
//   tcc_sdk_participant_calls_total{action,phase,outcome}: deliveries of
//     Try / Confirm / Cancel per registered action; outcome "success",
//     "refused" (a Try's business refusal) or "error" (the call failed and
//     the coordinator will retry it);
//   tcc_sdk_barrier_hits_total{kind}: calls the barrier answered without
//     running the handler: "duplicate" (a repeated delivery got the stored
//     answer), "empty_compensation" (a Cancel with no Try on record),
//     "blocked_late_try" (a Try that arrived after its Cancel, refused).
// Thread-safe; counts only go up.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace tcc::sdk {

struct BarrierAnswer;

class ParticipantMetrics {
 public:
  static constexpr char kContentType[] = "text/plain; version=0.0.4; charset=utf-8";

  ParticipantMetrics();
  ~ParticipantMetrics();
  ParticipantMetrics(const ParticipantMetrics&) = delete;
  ParticipantMetrics& operator=(const ParticipantMetrics&) = delete;

  // The scrape, in the Prometheus text format.
  std::string RenderPrometheus() const;

  // Called by ParticipantServer for every delivery: `phase` is "try",
  // "confirm" or "cancel"; `answer` is null when the call failed.
  void RecordCall(std::string_view action, std::string_view phase, const BarrierAnswer* answer);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tcc::sdk
