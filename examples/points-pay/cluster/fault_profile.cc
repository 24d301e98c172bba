#include "examples/points-pay/cluster/fault_profile.h"

#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace pointspay {
namespace {

absl::Status SetSwitch(FaultConfig& c, const std::string& name, double value) {
  std::map<std::string, double*> probabilities = {
      {"fail_try", &c.fail_try},
      {"fail_confirm", &c.fail_confirm},
      {"fail_cancel", &c.fail_cancel},
      {"crash_after_try", &c.crash_after_try},
      {"crash_after_confirm", &c.crash_after_confirm},
      {"drop_reply", &c.drop_reply},
      {"refuse_refund", &c.refuse_refund},
  };
  if (name == "latency_ms") {
    c.latency_ms = static_cast<int>(value);
    return absl::OkStatus();
  }
  auto it = probabilities.find(name);
  if (it == probabilities.end()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown fault switch \"", name,
        "\"; known: fail_try fail_confirm fail_cancel crash_after_try crash_after_confirm "
        "drop_reply refuse_refund latency_ms"));
  }
  if (value < 0 || value > 1) {
    return absl::InvalidArgumentError(absl::StrCat(name, " is a probability in [0, 1]"));
  }
  *it->second = value;
  return absl::OkStatus();
}

}  // namespace

ServiceFaults DefaultFaultProfile() {
  FaultConfig participant;
  participant.fail_try = 0.02;
  participant.fail_confirm = 0.05;
  participant.fail_cancel = 0.05;
  participant.crash_after_try = 0.001;
  participant.crash_after_confirm = 0.002;
  participant.drop_reply = 0.02;
  participant.latency_ms = 5;
  FaultConfig order;
  order.fail_try = 0.01;
  order.fail_confirm = 0.02;
  order.crash_after_try = 0.001;
  order.crash_after_confirm = 0.002;
  order.drop_reply = 0.02;
  order.latency_ms = 5;
  ServiceFaults faults{participant, participant, order};
  // Refund sagas that compensate under load: a refusal at the points step
  // (the last) undoes the pay-log and order steps; one at the pay log undoes
  // the order step. Neither undoes a points credit (the user may have spent
  // the points meanwhile; see points_service/points_actions.h).
  faults.points.refuse_refund = 0.02;
  faults.paylog.refuse_refund = 0.01;
  return faults;
}

absl::Status ApplyFaultOverride(std::string_view spec, ServiceFaults& faults) {
  absl::string_view text(spec.data(), spec.size());
  std::pair<std::string, std::string> kv = absl::StrSplit(text, absl::MaxSplits('=', 1));
  double value = 0;
  if (kv.second.empty() || !absl::SimpleAtod(kv.second, &value)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--fault \"", text, "\" is not [service.]switch=number"));
  }
  std::pair<std::string, std::string> name = absl::StrSplit(kv.first, absl::MaxSplits('.', 1));
  if (name.second.empty()) {
    for (FaultConfig* c : {&faults.points, &faults.paylog, &faults.order}) {
      if (absl::Status s = SetSwitch(*c, name.first, value); !s.ok()) return s;
    }
    return absl::OkStatus();
  }
  std::map<std::string, FaultConfig*> services = {
      {"points", &faults.points}, {"paylog", &faults.paylog}, {"order", &faults.order}};
  auto it = services.find(name.first);
  if (it == services.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown service \"", name.first, "\" in --fault; use points, paylog, order"));
  }
  return SetSwitch(*it->second, name.second, value);
}

std::vector<std::string> FaultFlags(const FaultConfig& c) {
  std::vector<std::string> flags;
  auto add = [&](const char* name, double value) {
    if (value > 0) flags.push_back(absl::StrCat("--", name, "=", value));
  };
  add("fail_try", c.fail_try);
  add("fail_confirm", c.fail_confirm);
  add("fail_cancel", c.fail_cancel);
  add("crash_after_try", c.crash_after_try);
  add("crash_after_confirm", c.crash_after_confirm);
  add("drop_reply", c.drop_reply);
  add("refuse_refund", c.refuse_refund);
  add("latency_ms", c.latency_ms);
  if (c.seed != 0) flags.push_back(absl::StrCat("--fault_seed=", c.seed));
  return flags;
}

}  // namespace pointspay
