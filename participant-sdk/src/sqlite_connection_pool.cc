#include "participant-sdk/src/sqlite_connection_pool.h"

namespace tcc::sdk::internal {

PooledConnection::~PooledConnection() {
  if (conn_ != nullptr) pool_->Release(std::move(conn_));
}

absl::StatusOr<PooledConnection> ConnectionPool::Acquire() {
  {
    tcc::MutexLock lock(&mu_);
    auto can_go = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return !idle_.empty() || open_ < limit_;
    };
    mu_.Await(tcc::Condition(&can_go));
    if (!idle_.empty()) {
      PooledConnection conn(*this, std::move(idle_.back()));
      idle_.pop_back();
      return conn;
    }
    ++open_;
  }
  absl::StatusOr<std::unique_ptr<SqliteConnection>> conn =
      OpenConnection(path_, options_, counters_, access_);
  if (!conn.ok()) {
    tcc::MutexLock lock(&mu_);
    --open_;
    return conn.status();
  }
  return PooledConnection(*this, *std::move(conn));
}

void ConnectionPool::Release(std::unique_ptr<SqliteConnection> conn) {
  tcc::MutexLock lock(&mu_);
  idle_.push_back(std::move(conn));
}

}  // namespace tcc::sdk::internal
