// Seeds a fresh data directory before the services start: users with points
// in points.db (a share of them too poor to pay for all their orders, so
// that refusals happen), UNPAID orders in orders.db, and seed.json with the
// points in circulation and each user's starting balance, which the checker
// needs to prove conservation.
//
// Thread-safety: call from one thread, before the services run.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace pointspay {

struct SeedOptions {
  int users = 100;
  int orders = 1000;
  uint64_t seed = 1;
  // Share of users with only kPoorBalance points.
  double poor_ratio = 0.1;
  // Balances for chosen users (e.g. {"u0002", 5} for a refusal test).
  std::map<std::string, int64_t> balances;
};

struct SeededOrder {
  std::string order_no;
  std::string user;
  int64_t amount = 0;
};

struct SeedResult {
  int64_t initial_total = 0;
  std::vector<SeededOrder> orders;
};

// Creates points.db, orders.db (with the services' schemas) and seed.json in
// `data_dir`. FAILED_PRECONDITION when orders.db already exists.
absl::StatusOr<SeedResult> SeedDataDir(const std::string& data_dir, const SeedOptions& options);

}  // namespace pointspay
