// Simulated initiators. A SimInitiatorService is one initiator's process:
// an in-memory SQLite database with its orders (the local writes) and the
// SDK's decision table, serving the status endpoint with the SDK's
// FenceOrReadDecision and committing locally with the SDK's CommitLocally,
// so the fence races the local commit exactly as in a real initiator.
//
// A SimFlow is one global transaction driven by an initiator, through the
// simulated network to whichever coordinator incarnation is up: Begin, Try
// (all branches at once or one by one), a pause (a slow initiator races
// the coordinator's timeout and back-query), then a local commit and
// Commit, or a Rollback; it may crash before or after its local commit.
// A saga flow submits its steps once (SubmitSaga) and leaves the rest to
// the coordinator. Calls that time out are retried a few times, then the initiator gives up
// (as if it crashed). What it saw is kept in its FlowRecord for the checker.
//
// Planted bug (for the planted-bug test, never in production code):
// unfenced_status answers the back-query from the orders table without
// taking the fence, so a slow local commit can still win afterwards.
//
// Not thread-safe: run on the simulator's thread only.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "coordinator/engine/transaction_engine.h"
#include "tcc/sdk/local_db.h"
#include "tests/sim/sim_loop.h"
#include "tests/sim/sim_network.h"

namespace tcc::sim {

class SimInitiatorService {
 public:
  static absl::StatusOr<std::unique_ptr<SimInitiatorService>> Open(bool unfenced_status);

  // The orders row and the decision row (gid, committed), in one local
  // transaction; FAILED_PRECONDITION once the back-query fenced the gid.
  absl::Status CommitLocally(const std::string& gid);
  // The status endpoint's answer.
  absl::StatusOr<InitiatorAnswer> QueryStatus(const std::string& gid);
  // Gids whose local commit happened.
  absl::StatusOr<std::set<std::string>> CommittedOrders();

 private:
  SimInitiatorService(std::unique_ptr<sdk::Database> db, bool unfenced_status)
      : db_(std::move(db)), unfenced_status_(unfenced_status) {}

  std::unique_ptr<sdk::Database> db_;
  const bool unfenced_status_;
};

// How the flows reach the coordinator: its engine while it is up.
class SimCoordinator {
 public:
  virtual ~SimCoordinator() = default;
  virtual TransactionEngine* engine() = 0;  // nullptr while down.
  virtual Life life() = 0;
};

struct FlowPlan {
  std::string gid;
  std::string node;      // The initiator's node.
  std::string endpoint;  // Its status endpoint; empty: none given.
  absl::Duration start;
  uint32_t timeout_ms = 0;
  std::vector<Branch> branches;
  bool try_one_by_one = false;
  bool begin_in_try = false;  // No Begin: the first Try carries its parameters.
  bool saga = false;          // A saga of `branches` as steps, instead of TCC.
  bool concurrent = false;    // Saga only: a DAG without edges, steps in parallel.
  bool want_rollback = false;
  absl::Duration pause;  // Between the last Try and the decision.
  enum class Crash { kNone, kBeforeLocalCommit, kAfterLocalCommit } crash = Crash::kNone;
};

struct FlowRecord {
  bool local_commit = false;
  bool fenced = false;  // Its local commit lost to the back-query's fence.
  std::optional<Decision> acknowledged;
  std::string ended;  // How the flow ended; empty while it runs.
};

class SimFlow {
 public:
  SimFlow(FlowPlan plan, SimLoop* loop, SimNetwork* network, SimCoordinator* coordinator,
          SimInitiatorService* service)
      : plan_(std::move(plan)),
        loop_(loop),
        network_(network),
        coordinator_(coordinator),
        service_(service) {}

  // Schedules the flow at plan.start.
  void Start();

  const FlowPlan& plan() const { return plan_; }
  const FlowRecord& record() const { return record_; }

 private:
  template <typename T>
  using Request = std::function<void(TransactionEngine&, TransactionEngine::Callback<T>)>;

  // One call to the coordinator, retried on errors that say nothing about
  // the outcome (lost, timed out, coordinator down); `done` gets the first
  // other answer, or the last error.
  template <typename T>
  void Call(std::string what, Request<T> start, std::function<void(absl::StatusOr<T>)> done,
            int attempt = 1);
  void Begin();
  void SubmitSaga();
  void TryFrom(size_t next);
  void Decide();
  void CommitLocallyThenDecide();
  void SendDecision(Decision decision);
  void End(std::string how);

  const FlowPlan plan_;
  SimLoop* const loop_;
  SimNetwork* const network_;
  SimCoordinator* const coordinator_;
  SimInitiatorService* const service_;
  FlowRecord record_;
  bool try_failed_ = false;
};

}  // namespace tcc::sim
