#include "examples/points-pay/cluster/seed.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "absl/strings/str_format.h"
#include "examples/points-pay/common/schema.h"
#include "tcc/common/status_macros.h"
#include "tcc/sdk/local_db.h"

namespace pointspay {
namespace {

constexpr int64_t kRichBalance = 1000;
constexpr int64_t kPoorBalance = 60;
constexpr int64_t kMinAmount = 10;
constexpr int64_t kMaxAmount = 100;

struct User {
  std::string name;
  int64_t balance;
};

std::vector<User> MakeUsers(const SeedOptions& options, std::mt19937_64& rng) {
  std::bernoulli_distribution poor(options.poor_ratio);
  std::vector<User> users;
  for (int i = 0; i < options.users; ++i) {
    std::string name = absl::StrFormat("u%04d", i);
    int64_t balance = poor(rng) ? kPoorBalance : kRichBalance;
    auto chosen = options.balances.find(name);
    users.push_back({name, chosen != options.balances.end() ? chosen->second : balance});
  }
  return users;
}

std::vector<SeededOrder> MakeOrders(const SeedOptions& options, const std::vector<User>& users,
                                    std::mt19937_64& rng) {
  std::uniform_int_distribution<int64_t> amount(kMinAmount, kMaxAmount);
  std::vector<SeededOrder> orders;
  for (int i = 0; i < options.orders; ++i) {
    orders.push_back({absl::StrFormat("o%06d", i), users[i % users.size()].name, amount(rng)});
  }
  return orders;
}

absl::Status WriteAccounts(const std::string& path, const std::vector<User>& users) {
  TCC_ASSIGN_OR_RETURN(std::unique_ptr<tcc::sdk::Database> db, tcc::sdk::OpenSqliteDatabase(path));
  TCC_RETURN_IF_ERROR(CreatePointsSchema(*db));
  return db->RunInTransaction([&](tcc::sdk::LocalTx& tx) -> absl::Status {
    for (const User& u : users) {
      TCC_RETURN_IF_ERROR(tx.Exec("INSERT INTO accounts (user, balance, frozen) VALUES (?, ?, 0)",
                                  {u.name, u.balance})
                              .status());
    }
    return absl::OkStatus();
  });
}

absl::Status WriteOrders(const std::string& path, const std::vector<SeededOrder>& orders) {
  TCC_ASSIGN_OR_RETURN(std::unique_ptr<tcc::sdk::Database> db, tcc::sdk::OpenSqliteDatabase(path));
  TCC_RETURN_IF_ERROR(CreateOrdersSchema(*db));
  return db->RunInTransaction([&](tcc::sdk::LocalTx& tx) -> absl::Status {
    for (const SeededOrder& o : orders) {
      TCC_RETURN_IF_ERROR(tx.Exec("INSERT INTO orders (order_no, user, amount, status)"
                                  " VALUES (?, ?, ?, ?)",
                                  {o.order_no, o.user, o.amount, kUnpaid})
                              .status());
    }
    return absl::OkStatus();
  });
}

absl::Status WriteSeedFile(const std::string& path, const SeedOptions& options,
                           const std::vector<User>& users, int64_t initial_total) {
  // Per user too: the checker proves each balance, not only the sum.
  nlohmann::json balances = nlohmann::json::object();
  for (const User& u : users) balances[u.name] = u.balance;
  nlohmann::json seed = {{"initial_total", initial_total},
                         {"balances", balances},
                         {"users", options.users},
                         {"orders", options.orders},
                         {"seed", options.seed}};
  std::ofstream out(path, std::ios::trunc);
  out << seed.dump(2) << "\n";
  if (!out.flush()) return absl::UnavailableError(absl::StrFormat("cannot write %s", path));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<SeedResult> SeedDataDir(const std::string& data_dir, const SeedOptions& options) {
  if (options.users < 1 || options.orders < 1) {
    return absl::InvalidArgumentError("need at least one user and one order");
  }
  std::filesystem::path dir(data_dir);
  if (std::filesystem::exists(dir / "orders.db")) {
    return absl::FailedPreconditionError(
        absl::StrFormat("%s already holds a run (orders.db); use an empty directory", data_dir));
  }
  std::mt19937_64 rng(options.seed);
  std::vector<User> users = MakeUsers(options, rng);
  SeedResult result;
  result.orders = MakeOrders(options, users, rng);
  for (const User& u : users) result.initial_total += u.balance;
  TCC_RETURN_IF_ERROR(WriteAccounts((dir / "points.db").string(), users));
  TCC_RETURN_IF_ERROR(WriteOrders((dir / "orders.db").string(), result.orders));
  TCC_RETURN_IF_ERROR(
      WriteSeedFile((dir / "seed.json").string(), options, users, result.initial_total));
  return result;
}

}  // namespace pointspay
