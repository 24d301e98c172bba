#include <spdlog/spdlog.h>

#include "participant-sdk/src/absl_compat.h"
#include "tcc/sdk/initiator_client.h"

namespace tcc::sdk {

TransactionGuard::TransactionGuard(InitiatorClient& client, std::string gid)
    : client_(&client), gid_(std::move(gid)) {}

TransactionGuard::TransactionGuard(InitiatorClient& client, const tcc::v1::BeginReply& begun)
    : client_(&client),
      gid_(begun.gid()),
      // A repeated request finds its GT decided: nothing for us to decide.
      decided_(begun.state() != tcc::v1::TRANSACTION_STATE_TRYING),
      created_(begun.created()),
      state_(begun.state()) {}

TransactionGuard::TransactionGuard(TransactionGuard&& other) noexcept
    : client_(other.client_),
      gid_(std::move(other.gid_)),
      decided_(other.decided_),
      created_(other.created_),
      state_(other.state_) {
  other.client_ = nullptr;
}

TransactionGuard::~TransactionGuard() {
  if (client_ == nullptr || decided_) return;
  absl::StatusOr<tcc::v1::TransactionState> state = client_->Rollback(gid_);
  if (absl::IsFailedPrecondition(state.status())) {
    // Decided by someone else meanwhile (a duplicate request committed it):
    // not ours to undo, and nothing is left for the timeout to resolve.
    spdlog::info("tcc: transaction {} was not rolled back: {}", gid_,
                 internal::ToStd(state.status().message()));
  } else if (!state.ok()) {
    spdlog::warn(
        "tcc: rollback of undecided transaction {} failed ({}); the coordinator's "
        "timeout will resolve it",
        gid_, internal::ToStd(state.status().message()));
  }
}

absl::StatusOr<tcc::v1::TryReply> TransactionGuard::Try(std::vector<tcc::v1::BranchSpec> branches) {
  return client_->Try(gid_, std::move(branches));
}

absl::StatusOr<tcc::v1::TransactionState> TransactionGuard::Commit() {
  absl::StatusOr<tcc::v1::TransactionState> state = client_->Commit(gid_);
  if (state.ok()) decided_ = true;
  return state;
}

absl::StatusOr<tcc::v1::TransactionState> TransactionGuard::Rollback() {
  absl::StatusOr<tcc::v1::TransactionState> state = client_->Rollback(gid_);
  if (state.ok()) decided_ = true;
  return state;
}

absl::StatusOr<LocalCommitResult> TransactionGuard::CommitWithLocalTransaction(
    Database& db, absl::FunctionRef<absl::Status(LocalTx&)> fn) {
  bool committed_locally = false;
  absl::StatusOr<LocalCommitResult> result =
      client_->CommitLocallyThenCommit(db, gid_, fn, /*committable=*/false, &committed_locally);
  // Once committed locally, a rollback would contradict the local writes.
  if (committed_locally) decided_ = true;
  return result;
}

}  // namespace tcc::sdk
