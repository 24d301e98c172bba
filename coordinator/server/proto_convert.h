// Conversions between tcc.v1 messages and domain values.
#pragma once

#include "coordinator/domain/state_machine.h"
#include "coordinator/domain/transaction.h"
#include "coordinator/engine/back_query.h"
#include "tcc/v1/admin.pb.h"
#include "tcc/v1/coordinator.pb.h"

namespace tcc {

v1::TransactionState ToProto(TxState state);
v1::BranchState ToProto(BranchState state);
v1::TryResult ToProto(CallOutcome outcome);
Branch FromProto(const v1::BranchSpec& spec);
Branch FromProto(const v1::SagaStep& step);
void ToProto(const GlobalTransaction& gt, v1::Transaction& out);
void ToProto(const std::string& endpoint, const BackQueryProgress& progress, v1::BackQuery& out);
void ToProto(const FailingEndpoint& endpoint, v1::TargetFailures& out);

}  // namespace tcc
