// One simulated run: a coordinator (the real TransactionEngine over a
// SimStore, restarted from the durable state after each crash, as tccd
// recovers), three participants, two initiator services and a handful of
// global transactions, all on one SimLoop. The seed decides everything:
// the transactions, the faults (message loss, duplication, late delivery,
// nodes unreachable for a while, coordinator crashes, failed store
// commits, failing handlers) and every delay. After a fault window the
// faults heal; once the run is quiet (or after a long simulated limit) the
// checker judges the outcome.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tcc::sim {

// Guarantees switched off on purpose, in the simulated components only,
// to show that the checker catches their loss.
struct Plants {
  bool unfenced_status = false;  // The status endpoint takes no fence.
  bool naive_cancel = false;     // Participants cancel without the barrier.
};

struct SimOptions {
  uint64_t seed = 1;
  bool keep_trace = false;
  // Disk faults, off by default because they find two engine gaps not
  // fixed yet (tests/sim/README.md): write_faults fail single writes,
  // commit_faults whole batches, reads included.
  bool write_faults = false;
  bool commit_faults = false;
  // Makes about a third of the transactions sagas.
  bool sagas = false;
  Plants plants;
};

struct SimReport {
  uint64_t seed = 0;
  std::vector<std::string> violations;
  std::vector<std::string> trace;  // Only with keep_trace.
  uint64_t trace_hash = 0;
  uint64_t events = 0;
  int transactions = 0;
  int committed = 0;
  int rolled_back = 0;
  int coordinator_crashes = 0;
  int64_t simulated_ms = 0;
};

SimReport RunSimulation(const SimOptions& options);

}  // namespace tcc::sim
