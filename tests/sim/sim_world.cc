#include "tests/sim/sim_world.h"

#include <map>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "coordinator/engine/transaction_engine.h"
#include "tests/sim/sim_checker.h"
#include "tests/sim/sim_initiator.h"
#include "tests/sim/sim_loop.h"
#include "tests/sim/sim_network.h"
#include "tests/sim/sim_participant.h"
#include "tests/sim/sim_store.h"

namespace tcc::sim {
namespace {

constexpr absl::Duration kFaultWindow = absl::Seconds(10);
// Past the fault window, how long a run may take to go quiet before what is
// left unfinished counts as a violation.
constexpr absl::Duration kQuietLimit = absl::Minutes(30);
constexpr int kParticipants = 3;
constexpr int kInitiators = 2;

std::string ParticipantNode(int i) { return absl::StrCat("p", i, ".sim"); }
std::string InitiatorNode(int i) { return absl::StrCat("init", i, ".sim"); }

// One life of the coordinator process: its engine and everything that dies
// with it.
struct Incarnation {
  Life life = NewLife();
  std::unique_ptr<SimScheduler> scheduler;
  std::unique_ptr<SimStoreQueue> queue;
  std::unique_ptr<SimTransport> transport;
  std::unique_ptr<TransactionEngine> engine;
};

class World final : public SimCoordinator, public SimEndpoints {
 public:
  explicit World(const SimOptions& options)
      : options_(options),
        loop_(options.seed, options.keep_trace),
        network_(&loop_),
        store_(&loop_) {}

  SimReport Run();

  TransactionEngine* engine() override { return up_ ? up_->engine.get() : nullptr; }
  Life life() override { return up_ ? up_->life : NewLife(); }
  CallResult HandleCall(const BranchCall& call) override;
  absl::StatusOr<InitiatorAnswer> HandleQuery(const std::string& endpoint,
                                              const std::string& gid) override;

 private:
  absl::Status Build();
  void PlanFaults();
  FlowPlan PlanFlow(int index);
  void Crash();
  void Restart();
  void Heal();
  bool Quiet() const;
  void Probe();
  SimReport Check();

  const SimOptions options_;
  // Declared first, destroyed last: the engines below may hold its events.
  SimLoop loop_;
  SimNetwork network_;
  SimStore store_;
  std::map<std::string, std::unique_ptr<SimParticipant>> participants_;
  std::map<std::string, std::unique_ptr<SimInitiatorService>> initiators_;
  std::vector<std::unique_ptr<SimFlow>> flows_;
  std::vector<std::unique_ptr<Incarnation>> incarnations_;  // Dead ones stay, unused.
  Incarnation* up_ = nullptr;
  bool healed_ = false;
  bool quiet_ = false;
  int crashes_ = 0;
};

CallResult World::HandleCall(const BranchCall& call) {
  auto it = participants_.find(NodeOf(call.target));
  if (it == participants_.end()) return {CallOutcome::kUnknown, "no such participant"};
  return it->second->Handle(call);
}

absl::StatusOr<InitiatorAnswer> World::HandleQuery(const std::string& endpoint,
                                                   const std::string& gid) {
  auto it = initiators_.find(NodeOf(endpoint));
  if (it == initiators_.end()) return absl::UnavailableError("no such status endpoint");
  return it->second->QueryStatus(gid);
}

absl::Status World::Build() {
  for (int i = 1; i <= kParticipants; ++i) {
    auto participant = SimParticipant::Open(&loop_, options_.plants.naive_cancel);
    if (!participant.ok()) return participant.status();
    (*participant)->set_handler_failure(loop_.Chance(0.5) ? 0.0 : 0.05);
    participants_[ParticipantNode(i)] = std::move(*participant);
  }
  for (int i = 1; i <= kInitiators; ++i) {
    auto service = SimInitiatorService::Open(options_.plants.unfenced_status);
    if (!service.ok()) return service.status();
    initiators_[InitiatorNode(i)] = std::move(*service);
  }
  int count = static_cast<int>(loop_.Uniform(3, 10));
  for (int i = 0; i < count; ++i) {
    FlowPlan plan = PlanFlow(i);
    SimInitiatorService* service = initiators_[plan.node].get();
    flows_.push_back(std::make_unique<SimFlow>(std::move(plan), &loop_, &network_, this, service));
  }
  return absl::OkStatus();
}

FlowPlan World::PlanFlow(int index) {
  FlowPlan plan;
  plan.gid = absl::StrCat("gt-", index);
  plan.node = InitiatorNode(static_cast<int>(loop_.Uniform(1, kInitiators)));
  if (!loop_.Chance(0.15)) plan.endpoint = absl::StrCat(plan.node, ":9000");
  plan.start = loop_.Between(absl::ZeroDuration(), absl::Seconds(6));
  plan.timeout_ms = static_cast<uint32_t>(loop_.Uniform(300, 3000));
  int branches = static_cast<int>(loop_.Uniform(1, 3));
  for (int b = 1; b <= branches; ++b) {
    Branch branch;
    branch.branch_id = absl::StrCat("b", b);
    branch.target =
        absl::StrCat(ParticipantNode(static_cast<int>(loop_.Uniform(1, kParticipants))), ":7000");
    branch.action = "points.freeze";
    branch.payload = loop_.Chance(0.08) ? kRefusePayload : "10";
    plan.branches.push_back(std::move(branch));
  }
  plan.try_one_by_one = loop_.Chance(0.5);
  plan.begin_in_try = index % 2 == 1;  // Not drawn: seeds keep their schedules.
  plan.want_rollback = loop_.Chance(0.1);
  plan.pause = loop_.Chance(0.3)
                   ? loop_.Between(absl::ZeroDuration(), absl::Milliseconds(2 * plan.timeout_ms))
                   : loop_.Between(absl::ZeroDuration(), absl::Milliseconds(30));
  int64_t crash = loop_.Uniform(1, 10);
  plan.crash = crash == 1   ? FlowPlan::Crash::kBeforeLocalCommit
               : crash == 2 ? FlowPlan::Crash::kAfterLocalCommit
                            : FlowPlan::Crash::kNone;
  // Drawn last, and only with sagas on, so that a seed's TCC-only run
  // stays the same schedule.
  if (options_.sagas && loop_.Chance(0.3)) {
    plan.saga = true;
    plan.concurrent = loop_.Chance(0.5);
    plan.endpoint.clear();
    for (Branch& step : plan.branches) step.action = "points.spend";
  }
  return plan;
}

void World::PlanFaults() {
  LinkFaults faults;
  faults.loss = loop_.Uniform(0, 15) / 100.0;
  faults.duplicate = loop_.Uniform(0, 10) / 100.0;
  faults.late = loop_.Uniform(0, 8) / 100.0;
  network_.set_faults(faults);
  double disk = loop_.Chance(0.5) ? 0.0 : loop_.Uniform(1, 3) / 100.0;
  if (options_.write_faults) store_.set_write_failure(disk);
  if (options_.commit_faults) store_.set_commit_failure(disk);
  loop_.Note(absl::StrCat("faults: loss ", faults.loss, " duplicate ", faults.duplicate, " late ",
                          faults.late));
  int crashes = static_cast<int>(loop_.Uniform(0, 3));
  for (int i = 0; i < crashes; ++i) {
    absl::Duration at = loop_.Between(absl::ZeroDuration(), kFaultWindow);
    loop_.At(loop_.start() + at, "coordinator crash", [this] { Crash(); });
  }
  std::vector<std::string> nodes;
  for (const auto& [node, unused] : participants_) nodes.push_back(node);
  for (const auto& [node, unused] : initiators_) nodes.push_back(node);
  for (const std::string& node : nodes) {
    if (!loop_.Chance(0.4)) continue;
    absl::Duration at = loop_.Between(absl::ZeroDuration(), kFaultWindow);
    absl::Duration length = loop_.Between(absl::Milliseconds(100), absl::Seconds(4));
    loop_.At(loop_.start() + at, absl::StrCat("outage ", node),
             [this, node, length] { network_.Down(node, loop_.Now() + length); });
  }
  loop_.At(loop_.start() + kFaultWindow, "faults heal", [this] { Heal(); });
}

void World::Crash() {
  if (up_ == nullptr) return;
  *up_->life = false;
  up_ = nullptr;
  ++crashes_;
  loop_.Note("coordinator: crashed (unflushed writes, timers and calls lost)");
  loop_.After(loop_.Between(absl::Milliseconds(10), absl::Seconds(2)), "coordinator restart",
              [this] { Restart(); });
}

void World::Restart() {
  if (up_ != nullptr) return;
  auto incarnation = std::make_unique<Incarnation>();
  Incarnation& next = *incarnation;
  next.scheduler = std::make_unique<SimScheduler>(&loop_, next.life);
  next.queue = std::make_unique<SimStoreQueue>(&loop_, &store_, next.life);
  next.transport = std::make_unique<SimTransport>(&loop_, &network_, this, next.life);
  EngineOptions engine_options;
  engine_options.retry = {absl::Milliseconds(20), absl::Seconds(1), 2.0, 0.5};
  engine_options.default_timeout = absl::Seconds(5);
  engine_options.call_timeout = absl::Seconds(1);
  engine_options.query_timeout = absl::Seconds(1);
  engine_options.random_seed = options_.seed * 1000 + incarnations_.size() + 1;
  next.engine = std::make_unique<TransactionEngine>(
      engine_options, next.queue.get(), next.transport.get(), next.scheduler.get(), &loop_);
  incarnations_.push_back(std::move(incarnation));
  absl::Status recovered = next.engine->Recover();
  if (!recovered.ok()) {  // tccd exits; its supervisor starts it again.
    *next.life = false;
    loop_.Note(absl::StrCat("coordinator: recovery failed: ", recovered.ToString()));
    loop_.After(absl::Milliseconds(100), "coordinator restart", [this] { Restart(); });
    return;
  }
  up_ = &next;
  loop_.Note(absl::StrCat("coordinator: up, ", next.engine->ActiveCount(), " unfinished resumed"));
}

void World::Heal() {
  healed_ = true;
  network_.Heal();
  store_.set_write_failure(0);
  store_.set_commit_failure(0);
  for (auto& [node, participant] : participants_) participant->set_handler_failure(0);
  Restart();
  Probe();
}

bool World::Quiet() const {
  if (up_ == nullptr || up_->engine->ActiveCount() != 0 || !up_->queue->idle()) return false;
  if (network_.in_flight() != 0) return false;
  for (const auto& flow : flows_) {
    if (flow->record().ended.empty()) return false;
  }
  for (const auto& [gid, gt] : store_.durable()) {
    if (!IsFinal(gt.state)) return false;
  }
  return true;
}

void World::Probe() {
  if (Quiet()) {
    quiet_ = true;
    return;
  }
  loop_.After(absl::Milliseconds(250), "probe", [this] { Probe(); });
}

SimReport World::Run() {
  SimReport report;
  report.seed = options_.seed;
  absl::Status built = Build();
  if (!built.ok()) {
    report.violations.push_back(absl::StrCat("setup-failed: ", built.ToString()));
    return report;
  }
  PlanFaults();
  Restart();
  for (auto& flow : flows_) flow->Start();
  absl::Time limit = loop_.start() + kFaultWindow + kQuietLimit;
  while (!quiet_ && loop_.Step(limit)) {
  }
  return Check();
}

SimReport World::Check() {
  SimReport report;
  report.seed = options_.seed;
  RunOutcome run;
  run.store = &store_.durable();
  for (auto& [node, participant] : participants_) {
    auto holds = participant->Holds();
    if (!holds.ok()) {
      report.violations.push_back(
          absl::StrCat("read-failed: ", node, ": ", holds.status().ToString()));
      continue;
    }
    run.holds.insert(run.holds.end(), holds->begin(), holds->end());
  }
  for (auto& [node, service] : initiators_) {
    auto orders = service->CommittedOrders();
    if (!orders.ok()) {
      report.violations.push_back(
          absl::StrCat("read-failed: ", node, ": ", orders.status().ToString()));
      continue;
    }
    run.local_commits.insert(orders->begin(), orders->end());
  }
  for (const auto& flow : flows_) run.flows.push_back(flow.get());
  std::vector<std::string> violations = CheckInvariants(run);
  report.violations.insert(report.violations.end(), violations.begin(), violations.end());
  for (const auto& [gid, gt] : store_.durable()) {
    if (gt.state == TxState::kCommitted) ++report.committed;
    if (gt.state == TxState::kRolledBack) ++report.rolled_back;
  }
  report.transactions = static_cast<int>(flows_.size());
  report.coordinator_crashes = crashes_;
  report.trace = loop_.trace();
  report.trace_hash = loop_.trace_hash();
  report.events = loop_.events_run();
  report.simulated_ms = absl::ToInt64Milliseconds(loop_.Now() - loop_.start());
  return report;
}

}  // namespace

SimReport RunSimulation(const SimOptions& options) {
  World world(options);
  return world.Run();
}

}  // namespace tcc::sim
