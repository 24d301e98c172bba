// A simulated participant: the SDK's own barrier (RunTry / RunConfirm /
// RunCancel) over an in-memory SQLite database, with handlers that keep a
// hold per branch (Try: held; Confirm: spent; Cancel: released) and log
// every handler that ran, in the same local transaction as the barrier row.
// The checker reads both tables at the end of a run. Its database survives
// the participant being unreachable (each local transaction is atomic).
//
// Planted bug (for the planted-bug test, never in production code):
// naive_cancel handles Cancel without the barrier, so an empty compensation
// leaves no record and a late Try reserves what nobody releases.
//
// Not thread-safe: run on the simulator's thread only.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "coordinator/domain/state_machine.h"
#include "coordinator/transport/participant_transport.h"
#include "tcc/sdk/local_db.h"
#include "tests/sim/sim_loop.h"

namespace tcc::sim {

// A branch's business state at a participant.
struct Hold {
  std::string gid;
  std::string branch_id;
  std::string state;       // held, spent or released.
  bool confirmed = false;  // The Confirm handler ran.
  bool cancelled = false;  // The Cancel handler ran.
};

// The payload that makes a participant refuse the Try (a business refusal).
inline constexpr char kRefusePayload[] = "refuse";

class SimParticipant {
 public:
  static absl::StatusOr<std::unique_ptr<SimParticipant>> Open(SimLoop* loop, bool naive_cancel);

  // Odds that a handler fails transiently (the coordinator retries).
  void set_handler_failure(double probability) { handler_failure_ = probability; }

  CallResult Handle(const BranchCall& call);

  // Every branch this participant ever saw a handler run for.
  absl::StatusOr<std::vector<Hold>> Holds();

 private:
  SimParticipant(SimLoop* loop, std::unique_ptr<sdk::Database> db, bool naive_cancel)
      : loop_(loop), db_(std::move(db)), naive_cancel_(naive_cancel) {}
  absl::Status MaybeFail(const char* handler);
  absl::Status Log(sdk::LocalTx& tx, const BranchCall& call, const char* op);

  SimLoop* const loop_;
  std::unique_ptr<sdk::Database> db_;
  const bool naive_cancel_;
  double handler_failure_ = 0;
};

}  // namespace tcc::sim
