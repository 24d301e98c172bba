#include "tcc/sdk/participant_metrics.h"

#include "common/metrics/registry.h"
#include "tcc/sdk/barrier.h"

namespace tcc::sdk {

class ParticipantMetrics::Impl {
 public:
  Impl()
      : calls_(registry_.AddCounter("tcc_sdk_participant_calls_total",
                                    "Try, Confirm and Cancel deliveries to this participant, by "
                                    "action, phase and outcome (success, refused, error).",
                                    {"action", "phase", "outcome"})),
        barrier_hits_(registry_.AddCounter(
            "tcc_sdk_barrier_hits_total",
            "Calls the barrier answered without running the handler, by kind (duplicate, "
            "empty_compensation, blocked_late_try).",
            {"kind"})) {
    // Present from the first scrape, so rate() sees every increase.
    for (const char* kind : {"duplicate", "empty_compensation", "blocked_late_try"}) {
      barrier_hits_.WithLabels({kind});
    }
  }

  void Record(std::string_view action, std::string_view phase, const BarrierAnswer* answer) {
    const char* outcome = answer == nullptr ? "error" : answer->refused ? "refused" : "success";
    calls_.WithLabels({std::string(action), std::string(phase), outcome}).Increment();
    if (answer == nullptr) return;
    if (answer->late_try_blocked) {
      barrier_hits_.WithLabels({"blocked_late_try"}).Increment();
    } else if (answer->duplicate) {
      barrier_hits_.WithLabels({"duplicate"}).Increment();
    } else if (answer->empty_compensation) {
      barrier_hits_.WithLabels({"empty_compensation"}).Increment();
    }
  }

  std::string Render() const { return registry_.Render(); }

 private:
  metrics::Registry registry_;
  metrics::Family<metrics::Counter>& calls_;
  metrics::Family<metrics::Counter>& barrier_hits_;
};

ParticipantMetrics::ParticipantMetrics() : impl_(std::make_unique<Impl>()) {}
ParticipantMetrics::~ParticipantMetrics() = default;

std::string ParticipantMetrics::RenderPrometheus() const { return impl_->Render(); }

void ParticipantMetrics::RecordCall(std::string_view action, std::string_view phase,
                                    const BarrierAnswer* answer) {
  impl_->Record(action, phase, answer);
}

}  // namespace tcc::sdk
