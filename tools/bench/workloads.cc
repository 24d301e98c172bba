#include "tools/bench/workloads.h"

#include <atomic>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "tcc/v1/coordinator.grpc.pb.h"
#include "tcc/v1/participant.grpc.pb.h"

namespace tcc::bench {
namespace {

absl::Status FromGrpc(const grpc::Status& status, absl::string_view what) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      absl::StrCat(what, ": ", status.error_message()));
}

// Round-robin choice among stubs; relaxed atomics are enough for spreading.
template <typename Stub>
class StubPool {
 public:
  explicit StubPool(const std::vector<std::shared_ptr<grpc::Channel>>& channels) {
    for (const auto& channel : channels) stubs_.push_back(Stub::NewStub(channel));
  }
  typename Stub::Stub* Next() {
    return stubs_[next_.fetch_add(1, std::memory_order_relaxed) % stubs_.size()].get();
  }

 private:
  std::vector<std::unique_ptr<typename Stub::Stub>> stubs_;
  std::atomic<size_t> next_{0};
};

class EchoWorkload final : public Workload {
 public:
  explicit EchoWorkload(const std::vector<std::shared_ptr<grpc::Channel>>& channels)
      : stubs_(channels) {}

  void Start(Done done) override {
    struct Call {
      grpc::ClientContext context;
      v1::BranchRequest request;
      v1::BranchReply reply;
    };
    auto call = std::make_shared<Call>();
    call->request.set_gid("echo");
    call->request.set_branch_id("b1");
    stubs_.Next()->async()->Try(
        &call->context, &call->request, &call->reply,
        [call, done = std::move(done)](grpc::Status status) { done(FromGrpc(status, "echo")); });
  }
  int RpcsPerUnit() const override { return 1; }
  std::string Describe() const override { return "echo (Participant.Try, null reply)"; }

 private:
  StubPool<v1::Participant> stubs_;
};

// The life of one TCC GT: three calls in sequence, each started from the
// previous one's callback. Freed when the last callback drops it.
struct TccCall {
  v1::Coordinator::Stub* stub = nullptr;
  Workload::Done done;
  grpc::ClientContext begin_context, try_context, commit_context;
  v1::BeginRequest begin;
  v1::BeginReply begun;
  v1::TryRequest attempt;
  v1::TryReply tried;
  v1::DecideRequest commit;
  v1::DecideReply decided;
};

class TccWorkload final : public Workload {
 public:
  TccWorkload(const LoadOptions& options,
              const std::vector<std::shared_ptr<grpc::Channel>>& channels,
              std::vector<std::string> participants)
      : options_(options), stubs_(channels), participants_(std::move(participants)) {}

  void Start(Done done) override {
    auto call = std::make_shared<TccCall>();
    call->stub = stubs_.Next();
    call->done = std::move(done);
    for (int i = 0; i < options_.branches; ++i) {
      v1::BranchSpec* branch = call->attempt.add_branches();
      branch->set_target(participants_[static_cast<size_t>(i) % participants_.size()]);
      branch->set_action("bench.reserve");
      branch->set_payload(std::string(static_cast<size_t>(options_.payload_bytes), 'x'));
    }
    if (!options_.begin_in_try) {
      call->stub->async()->Begin(&call->begin_context, &call->begin, &call->begun,
                                 [call](grpc::Status status) { OnBegun(call, status); });
      return;
    }
    // The gid is the client's, as Try with begin needs.
    call->begun.set_gid(absl::StrCat("bench-", gid_prefix_, "-", next_gid_.fetch_add(1)));
    call->attempt.mutable_begin();
    SendTry(call);
  }
  int RpcsPerUnit() const override {
    return (options_.begin_in_try ? 2 : 3) + 2 * options_.branches;
  }
  std::string Describe() const override {
    return absl::StrCat("TCC, ", options_.branches,
                        " branch(es): ", options_.begin_in_try ? "Try with begin" : "Begin -> Try",
                        " -> Commit acked");
  }

 private:
  static void OnBegun(const std::shared_ptr<TccCall>& call, const grpc::Status& status) {
    if (!status.ok()) return call->done(FromGrpc(status, "Begin"));
    SendTry(call);
  }

  static void SendTry(const std::shared_ptr<TccCall>& call) {
    call->attempt.set_gid(call->begun.gid());
    call->stub->async()->Try(&call->try_context, &call->attempt, &call->tried,
                             [call](grpc::Status status) { OnTried(call, status); });
  }

  static void OnTried(const std::shared_ptr<TccCall>& call, const grpc::Status& status) {
    if (!status.ok()) return call->done(FromGrpc(status, "Try"));
    for (const v1::BranchTryResult& result : call->tried.results()) {
      if (result.result() != v1::TRY_RESULT_SUCCEEDED) {
        return call->done(absl::AbortedError(
            absl::StrCat("branch ", result.branch_id(), " did not try: ", result.detail())));
      }
    }
    call->commit.set_gid(call->begun.gid());
    call->stub->async()->Commit(
        &call->commit_context, &call->commit, &call->decided,
        [call](grpc::Status status) { call->done(FromGrpc(status, "Commit")); });
  }

  const LoadOptions options_;
  StubPool<v1::Coordinator> stubs_;
  const std::vector<std::string> participants_;
  // --begin_in_try: gids unique across runs against one tccd.
  const std::string gid_prefix_ = absl::StrFormat("%x", absl::ToUnixMicros(absl::Now()));
  std::atomic<uint64_t> next_gid_{0};
};

class SagaWorkload final : public Workload {
 public:
  SagaWorkload(const LoadOptions& options,
               const std::vector<std::shared_ptr<grpc::Channel>>& channels,
               std::vector<std::string> participants)
      : options_(options), stubs_(channels), participants_(std::move(participants)) {}

  void Start(Done done) override {
    struct Call {
      grpc::ClientContext context;
      v1::SubmitSagaRequest request;
      v1::SubmitSagaReply reply;
    };
    auto call = std::make_shared<Call>();
    call->request.set_wait_for_result(true);
    for (int i = 0; i < options_.branches; ++i) {
      v1::SagaStep* step = call->request.add_steps();
      step->set_target(participants_[static_cast<size_t>(i) % participants_.size()]);
      step->set_action("bench.step");
      step->set_payload(std::string(static_cast<size_t>(options_.payload_bytes), 'x'));
    }
    stubs_.Next()->async()->SubmitSaga(
        &call->context, &call->request, &call->reply,
        [call, done = std::move(done)](grpc::Status status) {
          if (status.ok() && call->reply.state() != v1::TRANSACTION_STATE_COMMITTED) {
            return done(absl::AbortedError(
                absl::StrCat("saga ended in state ", v1::TransactionState_Name(call->reply.state()),
                             ": ", call->reply.reason())));
          }
          done(FromGrpc(status, "SubmitSaga"));
        });
  }
  // SubmitSaga, then each step's action (sent as Try); no Confirm.
  int RpcsPerUnit() const override { return 1 + options_.branches; }
  std::string Describe() const override {
    return absl::StrCat("saga, ", options_.branches, " step(s): SubmitSaga(wait_for_result)");
  }

 private:
  const LoadOptions options_;
  StubPool<v1::Coordinator> stubs_;
  const std::vector<std::string> participants_;
};

}  // namespace

std::vector<std::shared_ptr<grpc::Channel>> MakeChannels(
    const std::string& target, int count, std::shared_ptr<grpc::ChannelCredentials> credentials) {
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < count; ++i) {
    grpc::ChannelArguments args;
    // Distinct arguments keep gRPC from sharing one subchannel (and one
    // TCP connection) between the channels.
    args.SetInt("tcc_bench.channel_index", i);
    channels.push_back(grpc::CreateCustomChannel(target, credentials, args));
  }
  return channels;
}

std::unique_ptr<Workload> MakeEchoWorkload(
    const std::vector<std::shared_ptr<grpc::Channel>>& channels) {
  return std::make_unique<EchoWorkload>(channels);
}

absl::StatusOr<std::unique_ptr<Workload>> MakeTransactionWorkload(
    const LoadOptions& options, const std::vector<std::shared_ptr<grpc::Channel>>& channels,
    const std::vector<std::string>& participants) {
  switch (options.mode) {
    case Mode::kTcc:
      return std::make_unique<TccWorkload>(options, channels, participants);
    case Mode::kSaga:
      return std::make_unique<SagaWorkload>(options, channels, participants);
    case Mode::kPointsPay:
      break;
  }
  return absl::InvalidArgumentError(
      "--mode=points-pay drives the order service: see points_pay_workload.h");
}

}  // namespace tcc::bench
