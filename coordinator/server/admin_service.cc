#include "coordinator/server/admin_service.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "coordinator/domain/validation.h"
#include "coordinator/server/proto_convert.h"
#include "tcc/common/grpc_status.h"
#include "tcc/common/status_macros.h"

namespace tcc {
namespace {

constexpr uint32_t kDefaultPageSize = 50;
constexpr uint32_t kMaxPageSize = 500;
constexpr absl::string_view kTokenVersion = "v1";

absl::StatusOr<TxState> StateFromProto(int value) {
  if (value == v1::TRANSACTION_STATE_UNSPECIFIED || !IsValidTxState(value)) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown transaction state ", value, " in the states filter"));
  }
  return static_cast<TxState>(value);
}

absl::StatusOr<TransactionEngine::Resolution> ResolutionFromProto(int action) {
  switch (action) {
    case v1::RESOLVE_ACTION_COMMIT:
      return TransactionEngine::Resolution::kCommit;
    case v1::RESOLVE_ACTION_ROLLBACK:
      return TransactionEngine::Resolution::kRollback;
    case v1::RESOLVE_ACTION_MARK_COMMITTED:
      return TransactionEngine::Resolution::kMarkCommitted;
    case v1::RESOLVE_ACTION_MARK_ROLLED_BACK:
      return TransactionEngine::Resolution::kMarkRolledBack;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("unknown resolve action ", action,
                       "; use COMMIT, ROLLBACK, MARK_COMMITTED or MARK_ROLLED_BACK"));
  }
}

}  // namespace

std::string EncodePageToken(const ListCursor& cursor) {
  return absl::StrCat(kTokenVersion, ":", cursor.created_ms, ":", cursor.gid);
}

absl::StatusOr<ListCursor> DecodePageToken(absl::string_view token) {
  std::vector<absl::string_view> parts = absl::StrSplit(token, absl::MaxSplits(':', 2));
  ListCursor cursor;
  if (parts.size() != 3 || parts[0] != kTokenVersion ||
      !absl::SimpleAtoi(parts[1], &cursor.created_ms) || !ValidateGid(parts[2]).ok()) {
    return absl::InvalidArgumentError(
        "malformed page_token; pass the next_page_token of a previous reply unchanged");
  }
  cursor.gid = std::string(parts[2]);
  return cursor;
}

absl::StatusOr<ListQuery> ListQueryFromProto(const v1::ListTransactionsRequest& request,
                                             int64_t now_ms) {
  ListQuery query;
  for (int state : request.states()) {
    TCC_ASSIGN_OR_RETURN(TxState parsed, StateFromProto(state));
    query.states.push_back(parsed);
  }
  query.stuck_only = request.stuck_only();
  if (request.older_than_ms() < 0) {
    return absl::InvalidArgumentError("older_than_ms must not be negative");
  }
  if (request.older_than_ms() > 0) query.created_at_or_before_ms = now_ms - request.older_than_ms();
  if (!request.gid_prefix().empty()) {
    absl::Status valid = ValidateGid(request.gid_prefix());
    if (!valid.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("gid_prefix: ", valid.message()));
    }
    query.gid_prefix = request.gid_prefix();
  }
  if (!request.target().empty()) {
    TCC_RETURN_IF_ERROR(ValidateTarget(request.target(), "target"));
    query.target = request.target();
  }
  if (!v1::ListOrder_IsValid(request.order())) {
    return absl::InvalidArgumentError(absl::StrCat("unknown list order ", request.order()));
  }
  query.oldest_first = request.order() == v1::LIST_ORDER_OLDEST_FIRST;
  if (request.page_size() > kMaxPageSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_size ", request.page_size(), " is over the limit of ", kMaxPageSize));
  }
  query.limit = request.page_size() == 0 ? kDefaultPageSize : request.page_size();
  if (!request.page_token().empty()) {
    TCC_ASSIGN_OR_RETURN(query.after, DecodePageToken(request.page_token()));
  }
  return query;
}

void AdminService::RunQuery(grpc::ServerUnaryReactor* reactor,
                            std::function<absl::Status(TransactionQueries&)> query) {
  absl::Status submitted = queries_->Submit([reactor, query](TransactionQueries& queries) {
    reactor->Finish(ToGrpcStatus(query(queries)));
  });
  if (!submitted.ok()) reactor->Finish(ToGrpcStatus(submitted));
}

grpc::ServerUnaryReactor* AdminService::ListTransactions(grpc::CallbackServerContext* context,
                                                         const v1::ListTransactionsRequest* request,
                                                         v1::ListTransactionsReply* reply) {
  if (absl::Status denied =
          authorizer_->Authorize(*context, Role::kViewer, "Admin.ListTransactions").status();
      !denied.ok()) {
    return Refuse(context, denied);
  }
  auto* reactor = context->DefaultReactor();
  absl::StatusOr<ListQuery> query = ListQueryFromProto(*request, clock_->NowMs());
  if (!query.ok()) {
    reactor->Finish(ToGrpcStatus(query.status()));
    return reactor;
  }
  RunQuery(reactor, [query = *query, reply](TransactionQueries& queries) mutable -> absl::Status {
    uint32_t page_size = query.limit;
    query.limit = page_size + 1;  // One more tells whether another page exists.
    TCC_ASSIGN_OR_RETURN(std::vector<GlobalTransaction> found, queries.List(query));
    for (size_t i = 0; i < found.size() && i < page_size; ++i) {
      ToProto(found[i], *reply->add_transactions());
    }
    if (found.size() > page_size) {
      const GlobalTransaction& last = found[page_size - 1];
      reply->set_next_page_token(EncodePageToken({last.created_ms, last.gid}));
    }
    return absl::OkStatus();
  });
  return reactor;
}

grpc::ServerUnaryReactor* AdminService::DescribeTransaction(
    grpc::CallbackServerContext* context, const v1::DescribeTransactionRequest* request,
    v1::TransactionDetail* reply) {
  if (absl::Status denied =
          authorizer_->Authorize(*context, Role::kViewer, "Admin.DescribeTransaction").status();
      !denied.ok()) {
    return Refuse(context, denied);
  }
  auto* reactor = context->DefaultReactor();
  if (absl::Status valid = ValidateGid(request->gid()); !valid.ok()) {
    reactor->Finish(ToGrpcStatus(valid));
    return reactor;
  }
  RunQuery(reactor,
           [this, gid = request->gid(), reply](TransactionQueries& queries) -> absl::Status {
             TCC_ASSIGN_OR_RETURN(std::optional<GlobalTransaction> gt, queries.Find(gid));
             if (!gt) return absl::NotFoundError(absl::StrCat("no transaction with gid ", gid));
             // A failing branch's attempts are written at most every few
             // seconds, and a Confirm's success may wait for the GT's next
             // write; the owner's memory has the current ones.
             engine_->AddLiveBranchState(*gt);
             ToProto(*gt, *reply->mutable_transaction());
             // Back-queries are counted in the engine's memory, not in the store.
             if (std::optional<BackQueryProgress> back_query = engine_->BackQueryOf(gid)) {
               ToProto(gt->status_endpoint, *back_query, *reply->mutable_back_query());
             }
             TCC_ASSIGN_OR_RETURN(std::vector<TimelineEvent> timeline, queries.Timeline(gid));
             for (const TimelineEvent& event : timeline) {
               v1::TimelineEvent* proto = reply->add_timeline();
               proto->set_unix_ms(event.at_ms);
               proto->set_kind(event.kind);
               proto->set_detail(event.detail);
               proto->set_actor(event.actor);
             }
             return absl::OkStatus();
           });
  return reactor;
}

grpc::ServerUnaryReactor* AdminService::RetryNow(grpc::CallbackServerContext* context,
                                                 const v1::RetryNowRequest* request,
                                                 v1::RetryNowReply* reply) {
  absl::StatusOr<std::string> actor =
      OperatorActor(*context, "Admin.RetryNow", request->operator_());
  if (!actor.ok()) return Refuse(context, actor.status());
  auto* reactor = context->DefaultReactor();
  engine_->RetryNow(request->gid(), request->target(), *std::move(actor),
                    [reactor, reply](absl::StatusOr<uint32_t> count) {
                      if (count.ok()) reply->set_transactions(*count);
                      reactor->Finish(ToGrpcStatus(count.status()));
                    });
  return reactor;
}

grpc::ServerUnaryReactor* AdminService::Resolve(grpc::CallbackServerContext* context,
                                                const v1::ResolveRequest* request,
                                                v1::ResolveReply* reply) {
  absl::StatusOr<std::string> actor =
      OperatorActor(*context, "Admin.Resolve", request->operator_());
  if (!actor.ok()) return Refuse(context, actor.status());
  auto* reactor = context->DefaultReactor();
  absl::StatusOr<TransactionEngine::Resolution> resolution = ResolutionFromProto(request->action());
  if (!resolution.ok()) {
    reactor->Finish(ToGrpcStatus(resolution.status()));
    return reactor;
  }
  engine_->Resolve(request->gid(), *resolution, request->reason(), *std::move(actor),
                   [reactor, reply](absl::StatusOr<TxState> state) {
                     if (state.ok()) reply->set_state(ToProto(*state));
                     reactor->Finish(ToGrpcStatus(state.status()));
                   });
  return reactor;
}

grpc::ServerUnaryReactor* AdminService::Stats(grpc::CallbackServerContext* context,
                                              const v1::StatsRequest* request,
                                              v1::StatsReply* reply) {
  if (absl::Status denied = authorizer_->Authorize(*context, Role::kViewer, "Admin.Stats").status();
      !denied.ok()) {
    return Refuse(context, denied);
  }
  auto* reactor = context->DefaultReactor();
  RunQuery(reactor, [this, reply](TransactionQueries& queries) -> absl::Status {
    TCC_ASSIGN_OR_RETURN(StoreStats stats, queries.Stats());
    for (const auto& [state, count] : stats.by_state) {
      (*reply->mutable_transactions_by_state())[std::string(TxStateName(state))] = count;
    }
    reply->set_stuck(stats.stuck);
    if (stats.oldest_unfinished_created_ms > 0) {
      reply->set_oldest_unfinished_age_ms(clock_->NowMs() - stats.oldest_unfinished_created_ms);
    }
    reply->set_store_bytes(stats.store_bytes);
    reply->set_store_free_bytes(stats.free_bytes);
    if (stats.oldest_finished_updated_ms > 0) {
      reply->set_oldest_finished_age_ms(clock_->NowMs() - stats.oldest_finished_updated_ms);
    }
    if (retention_ != nullptr) FillRetention(*reply->mutable_retention());
    FillFailingTargets(stats.failing_targets, *reply);
    for (const InstanceInfo& instance : stats.instances) {
      v1::CoordinatorInstance* proto = reply->add_instances();
      proto->set_instance_id(instance.instance_id);
      proto->set_address(instance.address);
      proto->set_started_unix_ms(instance.started_ms);
      proto->set_heartbeat_age_ms(instance.heartbeat_age_ms);
      proto->set_live(instance.live);
    }
    return absl::OkStatus();
  });
  return reactor;
}

// Participants from the store, status endpoints from the engine's memory:
// one list, most failed attempts first.
void AdminService::FillFailingTargets(const std::vector<TargetFailures>& participants,
                                      v1::StatsReply& reply) const {
  for (const TargetFailures& failures : participants) {
    v1::TargetFailures* proto = reply.add_failing_targets();
    proto->set_target(failures.target);
    proto->set_role(v1::TARGET_ROLE_PARTICIPANT);
    proto->set_failing_branches(failures.failing_branches);
    proto->set_failed_attempts(failures.failed_attempts);
    proto->set_last_error(failures.last_error);
  }
  for (const FailingEndpoint& endpoint : engine_->FailingStatusEndpoints()) {
    ToProto(endpoint, *reply.add_failing_targets());
  }
  std::stable_sort(reply.mutable_failing_targets()->begin(), reply.mutable_failing_targets()->end(),
                   [](const v1::TargetFailures& a, const v1::TargetFailures& b) {
                     return a.failed_attempts() > b.failed_attempts();
                   });
}

absl::StatusOr<std::string> AdminService::OperatorActor(const grpc::CallbackServerContext& context,
                                                        absl::string_view method,
                                                        absl::string_view declared) const {
  TCC_ASSIGN_OR_RETURN(Principal caller, authorizer_->Authorize(context, Role::kOperator, method));
  if (!caller.authenticated()) TCC_RETURN_IF_ERROR(ValidateText(declared, "operator", 128));
  return caller.OperatorActor(declared);
}

void AdminService::FillRetention(v1::RetentionStatus& status) const {
  Retention::Stats stats = retention_->stats();
  status.set_retention_s(absl::ToInt64Seconds(retention_->options().retention));
  status.set_archiving(retention_->archiving());
  status.set_deleted(stats.deleted);
  status.set_archived(stats.archived);
  if (stats.last_run_ms > 0) status.set_last_pruning_age_ms(clock_->NowMs() - stats.last_run_ms);
}

}  // namespace tcc
