// The simulator's network: every message between the coordinator, the
// participants and the initiators goes through Send, which may delay it
// (reordering follows), lose it, deliver it twice, or deliver it seconds
// late (after its caller gave up), and drops whatever is addressed to a
// node that is down. Heal ends every fault. SimTransport is the engine's
// ParticipantTransport for one coordinator incarnation: a call's request
// and reply are two messages, and its deadline is a timer; whichever of the
// reply and the deadline comes first answers, once.
//
// Not thread-safe: run on the simulator's thread only.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <string>

#include "coordinator/transport/participant_transport.h"
#include "tests/sim/sim_loop.h"

namespace tcc::sim {

struct LinkFaults {
  double loss = 0;
  double duplicate = 0;
  // A message held back for up to `late_delay`, after its caller's deadline.
  double late = 0;
  absl::Duration late_delay = absl::Seconds(3);
};

class SimNetwork {
 public:
  explicit SimNetwork(SimLoop* loop) : loop_(loop) {}

  void set_faults(LinkFaults faults) { faults_ = faults; }
  // `node` receives nothing until `until`.
  void Down(const std::string& node, absl::Time until);
  bool IsDown(const std::string& node) const;
  // Ends every fault: no loss, no late message, every node up.
  void Heal();

  // Delivers `deliver` at `to` later, unless lost or `to` is down then.
  void Send(const std::string& to, const std::string& what, std::function<void()> deliver);

  size_t in_flight() const { return in_flight_; }

 private:
  void Deliver(const std::string& to, const std::string& what, std::function<void()> deliver,
               absl::Duration delay);

  SimLoop* const loop_;
  LinkFaults faults_;
  std::map<std::string, absl::Time> down_until_;
  size_t in_flight_ = 0;
};

// Answers a participant call or a back-query at its node (the simulated
// participants and initiators).
class SimEndpoints {
 public:
  virtual ~SimEndpoints() = default;
  virtual CallResult HandleCall(const BranchCall& call) = 0;
  virtual absl::StatusOr<InitiatorAnswer> HandleQuery(const std::string& endpoint,
                                                      const std::string& gid) = 0;
};

class SimTransport final : public ParticipantTransport {
 public:
  SimTransport(SimLoop* loop, SimNetwork* network, SimEndpoints* endpoints, Life life)
      : loop_(loop), network_(network), endpoints_(endpoints), life_(std::move(life)) {}

  void Call(BranchCall call, std::function<void(CallResult)> done) override;
  void QueryInitiator(std::string endpoint, std::string gid, absl::Duration timeout,
                      bool wait_for_ready, std::string traceparent,
                      std::function<void(absl::StatusOr<InitiatorAnswer>)> done) override;

 private:
  SimLoop* const loop_;
  SimNetwork* const network_;
  SimEndpoints* const endpoints_;
  const Life life_;
};

// Runs the first answer given to it; later ones (a late reply after the
// deadline, a duplicate) are ignored.
template <typename T>
class Once {
 public:
  explicit Once(std::function<void(T)> done) : done_(std::move(done)) {}
  void Answer(T value) {
    if (!done_) return;
    auto done = std::move(done_);
    done_ = nullptr;
    done(std::move(value));
  }

 private:
  std::function<void(T)> done_;
};

// The name of the node a gRPC target lives on ("p1.sim:7000" -> "p1.sim").
std::string NodeOf(const std::string& target);

inline constexpr char kCoordinatorNode[] = "coordinator";

}  // namespace tcc::sim
