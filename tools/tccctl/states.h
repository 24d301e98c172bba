// Names of transaction and branch states (and of failing targets' roles)
// as operators type and read them.
// Output uses the protocol's short upper-case names ("ROLLING_BACK", the
// keys of Admin.Stats); input accepts any case and '-' for '_'
// ("rolling-back"). The list of states comes from the protocol's enum, so a
// state added to coordinator.proto is known here after a rebuild. Stateless
// and thread-safe.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tcc/v1/admin.pb.h"
#include "tcc/v1/coordinator.pb.h"

namespace tcc::tccctl {

// Every transaction state but UNSPECIFIED, in the protocol's order.
const std::vector<v1::TransactionState>& AllTransactionStates();

// "committing", "ROLLING_BACK", "rolling-back" or
// "TRANSACTION_STATE_TRYING" -> the state. Anything else is
// INVALID_ARGUMENT listing the valid names.
absl::StatusOr<v1::TransactionState> ParseTransactionState(const std::string& text);

// "trying, committing, committed, rolling-back, rolled-back, ...".
std::string ValidTransactionStateNames();

// "COMMITTING"; "UNSPECIFIED" for unknown values.
std::string StateName(v1::TransactionState state);
std::string StateName(v1::BranchState state);

// "participant" or "status_endpoint" (JSON); TargetRoleText: "status
// endpoint" (tables).
std::string TargetRoleName(v1::TargetRole role);
std::string TargetRoleText(v1::TargetRole role);

// COMMITTED and ROLLED_BACK, for TCC and sagas alike (RUNNING and
// COMPENSATING are a saga's unfinished states).
bool IsFinal(v1::TransactionState state);

// Mode "SAGA" (any case).
bool IsSaga(const v1::Transaction& gt);

// Whether a branch has finished the phase its transaction is in. TCC: TRIED
// while TRYING, CONFIRMED on the commit side, CANCELLED on the rollback
// side. Saga (mode "SAGA"): TRIED (action done) while running or committed;
// while compensating or rolled back, nothing left to undo (CANCELLED or
// TRY_REFUSED; REGISTERED, never started, once ROLLED_BACK).
bool IsBranchDone(const v1::Transaction& gt, const v1::Branch& branch);

}  // namespace tcc::tccctl
