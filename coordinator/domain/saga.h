// Saga mode of the state machine, as pure functions: validating a submitted
// saga (its steps form a DAG), which steps may run now, and which completed
// or in-doubt steps must be compensated, in reverse dependency order.
//
// A step's action is sent as the participant's Try and its compensation as
// Cancel, so the participant's barrier applies unchanged: a compensation
// with no action before it is empty and blocks a late action. A step is
// marked `action_sent` *before* its action is sent (write ahead), so after a
// crash the mark means the action may have run and must be compensated.
// `attempts` counts the calls of the step's current phase: it starts again
// from 0 when the step enters compensation.
#pragma once

#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "coordinator/domain/state_machine.h"
#include "coordinator/domain/transaction.h"
#include "coordinator/domain/validation.h"

namespace tcc {

// Checks `steps` and, for an ordered saga, makes each step depend on the one
// before it. INVALID_ARGUMENT for no steps, too many, duplicate or malformed
// step ids, an unknown dependency, a cycle, or depends_on in ordered mode.
absl::Status PrepareSagaSteps(std::vector<Branch>& steps, bool concurrent, const Limits& limits);

// Steps whose action may be sent now: not started or in doubt (REGISTERED)
// with every dependency completed.
std::vector<size_t> RunnableSteps(const GlobalTransaction& saga);

// Whether a step's effect may exist and so must be undone.
bool NeedsCompensation(const Branch& step);

// Steps whose compensation may be sent now: every step that depends on them
// is compensated or never needed it.
std::vector<size_t> CompensableSteps(const GlobalTransaction& saga);

// COMMITTED when every step completed, ROLLED_BACK when compensation is
// over; nullopt otherwise.
std::optional<TxState> SagaFinalStateIfDone(const GlobalTransaction& saga);

// Moves a step whose effect may exist into the compensation phase: its
// attempt count and retry time start again (compensation starts without
// delay). The engine calls it once no action of the step is in flight.
void EnterCompensation(Branch& step);

// Records the outcome of one action; returns the reason to start
// compensating, if the saga must.
std::optional<std::string> ApplyActionResult(Branch& step, const CallResult& result,
                                             uint32_t max_attempts, int64_t retry_at_ms);

}  // namespace tcc
