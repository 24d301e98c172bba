// A TransactionStore wrapper for tests that fails Update as a failing or
// broken disk would: `budget` counts the updates still let through; at 0
// every update fails (with UNAVAILABLE, or the error set); negative means
// never fail. Everything else passes through.
#pragma once

#include <atomic>
#include <memory>

#include "coordinator/store/transaction_store_wrapper.h"

namespace tcc::testing {

class FailingStore final : public TransactionStoreWrapper {
 public:
  FailingStore(std::unique_ptr<TransactionStore> inner, std::shared_ptr<std::atomic<int>> budget)
      : TransactionStoreWrapper(std::move(inner)), budget_(std::move(budget)) {}

  void set_error(absl::Status error) { error_ = std::move(error); }

  absl::Status Update(const TransactionUpdate& update) override {
    if (*budget_ == 0) return error_;
    if (*budget_ > 0) --*budget_;
    return TransactionStoreWrapper::Update(update);
  }

 private:
  std::shared_ptr<std::atomic<int>> budget_;
  absl::Status error_ = absl::UnavailableError("injected: I/O error");
};

}  // namespace tcc::testing
