#include "participant-sdk/src/sqlite_pooled_database.h"

#include "tcc/common/status_macros.h"

namespace tcc::sdk::internal {

absl::Status PooledDatabase::RunInTransaction(TxFn fn) {
  CallInProgress in_progress(*this);
  TCC_ASSIGN_OR_RETURN(PooledConnection conn, writers_.Acquire());
  // BEGIN IMMEDIATE takes the write lock up front, so two transactions
  // never both read a state and then race to write it; the unique keys
  // still decide every duplicate.
  TCC_RETURN_IF_ERROR(conn->Run("BEGIN IMMEDIATE"));
  CountTransaction(1);
  return CommitAfter(*conn, fn);
}

}  // namespace tcc::sdk::internal
