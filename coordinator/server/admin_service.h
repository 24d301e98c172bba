// The tcc.v1.Admin gRPC service for operators (tccctl): lists, timelines
// and statistics come from the store's read-only queries on their own
// thread, with the back-queries' progress that only the engine's memory
// holds; RetryNow and Resolve go through the engine. Reads need the viewer
// role, RetryNow and Resolve the operator role (authorizer.h), checked
// before anything else; operator actions are recorded under the
// authenticated caller's name. Thread-safe.
#pragma once

#include "coordinator/domain/clock.h"
#include "coordinator/engine/retention.h"
#include "coordinator/engine/transaction_engine.h"
#include "coordinator/server/authorizer.h"
#include "coordinator/server/query_executor.h"
#include "tcc/v1/admin.grpc.pb.h"

namespace tcc {

class AdminService final : public v1::Admin::CallbackService {
 public:
  // `retention` may be null (stats then report none).
  AdminService(TransactionEngine* engine, QueryExecutor* queries, const Clock* clock,
               const Authorizer* authorizer, const Retention* retention = nullptr)
      : engine_(engine),
        queries_(queries),
        clock_(clock),
        authorizer_(authorizer),
        retention_(retention) {}

  grpc::ServerUnaryReactor* ListTransactions(grpc::CallbackServerContext* context,
                                             const v1::ListTransactionsRequest* request,
                                             v1::ListTransactionsReply* reply) override;
  grpc::ServerUnaryReactor* DescribeTransaction(grpc::CallbackServerContext* context,
                                                const v1::DescribeTransactionRequest* request,
                                                v1::TransactionDetail* reply) override;
  grpc::ServerUnaryReactor* RetryNow(grpc::CallbackServerContext* context,
                                     const v1::RetryNowRequest* request,
                                     v1::RetryNowReply* reply) override;
  grpc::ServerUnaryReactor* Resolve(grpc::CallbackServerContext* context,
                                    const v1::ResolveRequest* request,
                                    v1::ResolveReply* reply) override;
  grpc::ServerUnaryReactor* Stats(grpc::CallbackServerContext* context,
                                  const v1::StatsRequest* request, v1::StatsReply* reply) override;

 private:
  // Runs `query` on the query thread and finishes `reactor` with its status.
  void RunQuery(grpc::ServerUnaryReactor* reactor,
                std::function<absl::Status(TransactionQueries&)> query);

  void FillFailingTargets(const std::vector<TargetFailures>& participants,
                          v1::StatsReply& reply) const;
  void FillRetention(v1::RetentionStatus& status) const;
  // The actor an operator action is recorded under, if the caller holds
  // the operator role: the authenticated name, or the request's
  // self-declared `declared` when authorization is off.
  absl::StatusOr<std::string> OperatorActor(const grpc::CallbackServerContext& context,
                                            absl::string_view method,
                                            absl::string_view declared) const;

  TransactionEngine* engine_;
  QueryExecutor* queries_;
  const Clock* clock_;
  const Authorizer* authorizer_;
  const Retention* retention_;
};

// Parses and checks a ListTransactions request (exposed for tests).
absl::StatusOr<ListQuery> ListQueryFromProto(const v1::ListTransactionsRequest& request,
                                             int64_t now_ms);
std::string EncodePageToken(const ListCursor& cursor);
absl::StatusOr<ListCursor> DecodePageToken(absl::string_view token);

}  // namespace tcc
