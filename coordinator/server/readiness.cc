#include "coordinator/server/readiness.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "tcc/common/notification.h"

namespace tcc {
namespace {

// Whether a transaction has this gid does not matter: the indexed read does.
constexpr char kProbeGid[] = "tccd-readyz-probe";

HttpResponse NotReady(absl::string_view why) {
  return {503, absl::StrCat("not ready: ", why, "\n")};
}

}  // namespace

void Readiness::MarkServing(StoreQueue* queue) {
  tcc::MutexLock lock(&mu_);
  state_ = State::kServing;
  queue_ = queue;
}

void Readiness::MarkStopping() {
  tcc::MutexLock lock(&mu_);
  state_ = State::kStopping;
}

HttpResponse Readiness::Healthz() const { return {200, "ok\n"}; }

HttpResponse Readiness::Readyz() const {
  StoreQueue* queue = nullptr;
  {
    tcc::MutexLock lock(&mu_);
    if (state_ == State::kStarting) return NotReady("recovering unfinished transactions");
    if (state_ == State::kStopping) return NotReady("shutting down");
    queue = queue_;
  }
  if (absl::Status store = ProbeStore(queue); !store.ok()) {
    return NotReady(absl::StrCat("the store did not answer: ", store.message()));
  }
  return {200, "ready\n"};
}

absl::Status Readiness::ProbeStore(StoreQueue* queue) const {
  // Shared with the completion, which may run after a probe gave up.
  struct Answer {
    tcc::Notification done;
    absl::Status status;
  };
  auto answer = std::make_shared<Answer>();
  absl::Status submitted =
      queue->Submit([](TransactionStore& store) { return store.Find(kProbeGid).status(); },
                    [answer](absl::Status status) {
                      answer->status = std::move(status);
                      answer->done.Notify();
                    });
  if (!submitted.ok()) return submitted;
  if (!answer->done.WaitForNotificationWithTimeout(store_deadline_)) {
    return absl::DeadlineExceededError(
        absl::StrCat("no answer within ", absl::FormatDuration(store_deadline_)));
  }
  return answer->status;
}

}  // namespace tcc
