#include "tests/sim/sim_network.h"

#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"

namespace tcc::sim {

std::string NodeOf(const std::string& target) { return target.substr(0, target.find(':')); }

void SimNetwork::Down(const std::string& node, absl::Time until) {
  absl::Time& current = down_until_[node];
  current = std::max(current, until);
  loop_->Note(absl::StrCat("network: ", node, " unreachable for ",
                           absl::ToInt64Milliseconds(until - loop_->Now()), "ms"));
}

bool SimNetwork::IsDown(const std::string& node) const {
  auto it = down_until_.find(node);
  return it != down_until_.end() && it->second > loop_->Now();
}

void SimNetwork::Heal() {
  faults_ = {};
  down_until_.clear();
  loop_->Note("network: healed");
}

void SimNetwork::Send(const std::string& to, const std::string& what,
                      std::function<void()> deliver) {
  if (loop_->Chance(faults_.loss)) {
    loop_->Note(absl::StrCat("network: lost ", what));
    return;
  }
  absl::Duration delay = loop_->Between(absl::Microseconds(100), absl::Milliseconds(20));
  if (loop_->Chance(faults_.late))
    delay = loop_->Between(absl::Milliseconds(20), faults_.late_delay);
  if (loop_->Chance(faults_.duplicate)) {
    Deliver(to, absl::StrCat(what, " (duplicate)"), deliver,
            loop_->Between(absl::Microseconds(100), faults_.late_delay));
  }
  Deliver(to, what, std::move(deliver), delay);
}

void SimNetwork::Deliver(const std::string& to, const std::string& what,
                         std::function<void()> deliver, absl::Duration delay) {
  ++in_flight_;
  loop_->After(delay, absl::StrCat("deliver ", what), [this, to, deliver = std::move(deliver)] {
    --in_flight_;
    if (IsDown(to)) {
      loop_->Note(absl::StrCat("  dropped: ", to, " is down"));
      return;
    }
    deliver();
  });
}

void SimTransport::Call(BranchCall call, std::function<void(CallResult)> done) {
  auto once = std::make_shared<Once<CallResult>>(std::move(done));
  std::string what = absl::StrCat(PhaseName(call.phase), " ", call.gid, "/", call.branch_id);
  loop_->After(call.timeout, absl::StrCat("deadline ", what), Guard(life_, [once] {
                 once->Answer({CallOutcome::kUnknown, "deadline exceeded"});
               }));
  std::string to = NodeOf(call.target);
  network_->Send(to, absl::StrCat(what, " -> ", to), [this, call = std::move(call), once, what] {
    CallResult result = endpoints_->HandleCall(call);
    network_->Send(kCoordinatorNode, absl::StrCat(what, " reply"),
                   Guard(life_, [once, result] { once->Answer(result); }));
  });
}

void SimTransport::QueryInitiator(std::string endpoint, std::string gid, absl::Duration timeout,
                                  bool /*wait_for_ready*/, std::string /*traceparent*/,
                                  std::function<void(absl::StatusOr<InitiatorAnswer>)> done) {
  auto once = std::make_shared<Once<absl::StatusOr<InitiatorAnswer>>>(std::move(done));
  std::string what = absl::StrCat("QueryStatus ", gid);
  loop_->After(timeout, absl::StrCat("deadline ", what), Guard(life_, [once] {
                 once->Answer(absl::DeadlineExceededError("back-query deadline exceeded"));
               }));
  std::string to = NodeOf(endpoint);
  network_->Send(to, absl::StrCat(what, " -> ", to), [this, endpoint, gid, once, what] {
    absl::StatusOr<InitiatorAnswer> answer = endpoints_->HandleQuery(endpoint, gid);
    network_->Send(kCoordinatorNode, absl::StrCat(what, " reply"),
                   Guard(life_, [once, answer] { once->Answer(answer); }));
  });
}

}  // namespace tcc::sim
