#include "examples/points-pay/common/fault_database.h"

#include <optional>
#include <string>

#include "absl/strings/str_cat.h"

namespace pointspay {
namespace {

struct AfterCommit {
  Fault fault;
  std::string gid;
};

// Set by a handler during RunInTransaction on the same thread.
thread_local std::optional<AfterCommit> pending_after_commit;

}  // namespace

void RequestAfterCommit(Fault fault, std::string_view gid) {
  pending_after_commit = AfterCommit{fault, std::string(gid)};
}

FaultDatabase::FaultDatabase(std::shared_ptr<tcc::sdk::Database> inner, FaultInjector& faults)
    : inner_(std::move(inner)), faults_(faults) {}

absl::Status FaultDatabase::RunInTransaction(
    absl::FunctionRef<absl::Status(tcc::sdk::LocalTx&)> fn) {
  faults_.Delay("");
  pending_after_commit.reset();
  absl::Status status = inner_->RunInTransaction(fn);
  std::optional<AfterCommit> after = std::move(pending_after_commit);
  pending_after_commit.reset();
  if (!status.ok() || !after.has_value()) return status;
  if (after->fault == Fault::kDropReply) {
    faults_.Record(Fault::kDropReply, after->gid);
    return absl::UnavailableError(
        absl::StrCat("injected fault drop_reply: ", after->gid, " committed, reply dropped"));
  }
  faults_.Crash(after->fault, after->gid);
}

absl::Status FaultDatabase::RunReadOnly(absl::FunctionRef<absl::Status(tcc::sdk::LocalTx&)> fn) {
  return inner_->RunReadOnly(fn);
}

absl::Status InjectedFault(Fault fault, const tcc::sdk::BranchRequest& request) {
  return absl::UnavailableError(absl::StrCat("injected fault ", FaultName(fault), " on ",
                                             request.action(), " ", request.gid()));
}

std::string InjectedRefusal(const tcc::sdk::BranchRequest& request) {
  return absl::StrCat("injected fault refuse_refund: ", request.action(), " refused for ",
                      request.gid());
}

void MaybeFailAfterCommit(FaultInjector& faults, Fault crash,
                          const tcc::sdk::BranchRequest& request) {
  if (faults.Fires(crash)) {
    RequestAfterCommit(crash, request.gid());
  } else if (faults.Fires(Fault::kDropReply)) {
    RequestAfterCommit(Fault::kDropReply, request.gid());
  }
}

}  // namespace pointspay
