// Conversions between tcc.v1 messages and domain values.
#pragma once

#include "coordinator/domain/state_machine.h"
#include "coordinator/domain/transaction.h"
#include "tcc/v1/coordinator.pb.h"

namespace tcc {

v1::TransactionState ToProto(TxState state);
v1::BranchState ToProto(BranchState state);
v1::TryResult ToProto(CallOutcome outcome);
Branch FromProto(const v1::BranchSpec& spec);
Branch FromProto(const v1::SagaStep& step);
void ToProto(const GlobalTransaction& gt, v1::Transaction& out);

}  // namespace tcc
