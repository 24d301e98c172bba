// An in-process ParticipantTransport for engine unit tests: answers each
// call from a scriptable behaviour on a worker thread (never inline, like
// the real transport) and records every call.
#pragma once

#include <deque>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "coordinator/transport/participant_transport.h"
#include "tcc/common/mutex.h"

namespace tcc::testing {

class FakeTransport final : public ParticipantTransport {
 public:
  using Behavior = std::function<CallResult(const BranchCall&)>;
  using InitiatorBehavior = std::function<absl::StatusOr<InitiatorAnswer>(const std::string&)>;

  FakeTransport() : worker_([this] { Loop(); }) {}
  ~FakeTransport() override {
    {
      tcc::MutexLock lock(&mu_);
      stopping_ = true;
    }
    worker_.join();
  }

  void SetBehavior(Behavior behavior) {
    tcc::MutexLock lock(&mu_);
    behavior_ = std::move(behavior);
  }
  void SetInitiatorBehavior(InitiatorBehavior behavior) {
    tcc::MutexLock lock(&mu_);
    initiator_ = std::move(behavior);
  }

  void Call(BranchCall call, std::function<void(CallResult)> done) override {
    tcc::MutexLock lock(&mu_);
    calls_.push_back(call);
    work_.push_back([this, call = std::move(call), done = std::move(done)] {
      Behavior behavior;
      {
        tcc::MutexLock lock(&mu_);
        behavior = behavior_;
      }
      CallResult result = behavior ? behavior(call) : CallResult{CallOutcome::kSuccess, ""};
      if (Hold(call)) {
        tcc::MutexLock lock(&mu_);
        held_.push_back([done, result] { done(result); });
        return;
      }
      done(result);
    });
  }

  // Keeps back the reply of every call `hold` picks until ReleaseHeld: a
  // late reply, as one to a copy of the transaction dropped and reloaded
  // since, reaches the engine after later ones.
  void HoldReplies(std::function<bool(const BranchCall&)> hold) {
    tcc::MutexLock lock(&mu_);
    hold_ = std::move(hold);
  }
  // Delivers the held replies now, in order, on the worker thread.
  void ReleaseHeld() {
    tcc::MutexLock lock(&mu_);
    for (auto& reply : held_) {
      work_.push_back([this, reply = std::move(reply)] {
        reply();
        tcc::MutexLock lock(&mu_);
        ++held_replies_handled_;
      });
    }
    held_.clear();
  }
  // How many released replies the engine has handled (their callback returned).
  int held_replies_handled() const {
    tcc::MutexLock lock(&mu_);
    return held_replies_handled_;
  }

  void QueryInitiator(std::string endpoint, std::string gid, absl::Duration timeout,
                      bool wait_for_ready, std::string traceparent,
                      std::function<void(absl::StatusOr<InitiatorAnswer>)> done) override {
    tcc::MutexLock lock(&mu_);
    ++queries_;
    query_waits_for_ready_.push_back(wait_for_ready);
    query_traceparents_.push_back(std::move(traceparent));
    work_.push_back([this, gid = std::move(gid), done = std::move(done)] {
      InitiatorBehavior behavior;
      {
        tcc::MutexLock lock(&mu_);
        behavior = initiator_;
      }
      done(behavior ? behavior(gid) : absl::UnavailableError("no initiator behaviour set"));
    });
  }

  std::vector<BranchCall> calls() const {
    tcc::MutexLock lock(&mu_);
    return calls_;
  }
  int CountCalls(Phase phase) const {
    tcc::MutexLock lock(&mu_);
    int count = 0;
    for (const BranchCall& call : calls_) count += call.phase == phase;
    return count;
  }
  int queries() const {
    tcc::MutexLock lock(&mu_);
    return queries_;
  }
  // Per back-query, in order: whether it waited for the connection.
  std::vector<bool> query_waits_for_ready() const {
    tcc::MutexLock lock(&mu_);
    return query_waits_for_ready_;
  }
  // The traceparent of each back-query, in order.
  std::vector<std::string> query_traceparents() const {
    tcc::MutexLock lock(&mu_);
    return query_traceparents_;
  }
  // Targets whose reconnect backoff the engine reset, in order.
  std::vector<std::string> backoff_resets() const {
    tcc::MutexLock lock(&mu_);
    return backoff_resets_;
  }
  void ResetBackoff(const std::string& target) override {
    tcc::MutexLock lock(&mu_);
    backoff_resets_.push_back(target);
  }

 private:
  void Loop() {
    while (true) {
      std::function<void()> next;
      {
        tcc::MutexLock lock(&mu_);
        auto has_work = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return stopping_ || !work_.empty();
        };
        mu_.Await(tcc::Condition(&has_work));
        if (work_.empty()) return;
        next = std::move(work_.front());
        work_.pop_front();
      }
      next();
    }
  }

  bool Hold(const BranchCall& call) {
    std::function<bool(const BranchCall&)> hold;
    {
      tcc::MutexLock lock(&mu_);
      hold = hold_;
    }
    return hold && hold(call);
  }

  mutable tcc::Mutex mu_;
  Behavior behavior_ ABSL_GUARDED_BY(mu_);
  std::function<bool(const BranchCall&)> hold_ ABSL_GUARDED_BY(mu_);
  std::vector<std::function<void()>> held_ ABSL_GUARDED_BY(mu_);
  int held_replies_handled_ ABSL_GUARDED_BY(mu_) = 0;
  InitiatorBehavior initiator_ ABSL_GUARDED_BY(mu_);
  std::vector<BranchCall> calls_ ABSL_GUARDED_BY(mu_);
  int queries_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<bool> query_waits_for_ready_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> query_traceparents_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> backoff_resets_ ABSL_GUARDED_BY(mu_);
  std::deque<std::function<void()>> work_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread worker_;
};

}  // namespace tcc::testing
