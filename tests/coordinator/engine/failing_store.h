// A TransactionStore wrapper for tests that fails Update as a failing or
// broken disk would: `budget` counts the updates still let through; at 0
// every update fails (with UNAVAILABLE, or the error set); negative means
// never fail; FailWhen picks single updates to fail. Everything else passes
// through.
#pragma once

#include <atomic>
#include <functional>
#include <memory>

#include "coordinator/store/transaction_store_wrapper.h"

namespace tcc::testing {

class FailingStore final : public TransactionStoreWrapper {
 public:
  FailingStore(std::unique_ptr<TransactionStore> inner, std::shared_ptr<std::atomic<int>> budget)
      : TransactionStoreWrapper(std::move(inner)), budget_(std::move(budget)) {}

  void set_error(absl::Status error) { error_ = std::move(error); }
  // Also fails the updates `when` picks, whatever the budget. Set before
  // the store is handed over (it is read on the store's thread).
  void FailWhen(std::function<bool(const TransactionUpdate&)> when) { when_ = std::move(when); }

  absl::Status Update(const TransactionUpdate& update) override {
    if (*budget_ == 0 || (when_ && when_(update))) return error_;
    if (*budget_ > 0) --*budget_;
    return TransactionStoreWrapper::Update(update);
  }

 private:
  std::shared_ptr<std::atomic<int>> budget_;
  std::function<bool(const TransactionUpdate&)> when_;
  absl::Status error_ = absl::UnavailableError("injected: I/O error");
};

}  // namespace tcc::testing
