// Calls per second through the participant barrier on a SQLite file, with
// and without group commit. Not a ctest: run it by hand, e.g.
//
//   build/tests/participant-sdk/sdk_sqlite_group_commit_bench \
//       --threads=16 --seconds=10 --group_commit=1 --sync=full --path=/tmp/gc-bench.db
//
// Each thread runs points-payment-like branches: a Try that freezes points
// and a Confirm that deducts them, each one barrier row plus one UPDATE in
// one RunInTransaction call. The file is deleted first.
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tcc/common/status_macros.h"
#include "tcc/sdk/barrier.h"
#include "tcc/sdk/local_db.h"

namespace {

struct Flags {
  int threads = 16;
  int seconds = 10;
  bool group_commit = true;
  bool sync_full = true;
  std::string path = "/tmp/tcc-group-commit-bench.db";
};

bool Parse(int argc, char** argv, Flags& flags) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value = arg.substr(arg.find('=') + 1);
    int number = 0;
    bool ok = true;
    if (absl::StartsWith(arg, "--threads=")) {
      ok = absl::SimpleAtoi(value, &flags.threads) && flags.threads > 0;
    } else if (absl::StartsWith(arg, "--seconds=")) {
      ok = absl::SimpleAtoi(value, &flags.seconds) && flags.seconds > 0;
    } else if (absl::StartsWith(arg, "--group_commit=")) {
      ok = absl::SimpleAtoi(value, &number);
      flags.group_commit = number != 0;
    } else if (absl::StartsWith(arg, "--sync=")) {
      ok = value == "full" || value == "normal";
      flags.sync_full = value == "full";
    } else if (absl::StartsWith(arg, "--path=")) {
      flags.path = value;
    } else {
      ok = false;
    }
    if (!ok) {
      std::fprintf(stderr, "bad flag %s\n", arg.c_str());
      return false;
    }
  }
  return true;
}

absl::Status Setup(tcc::sdk::Database& db, int users) {
  TCC_RETURN_IF_ERROR(tcc::sdk::CreateBarrierTable(db));
  return db.RunInTransaction([&](tcc::sdk::LocalTx& tx) -> absl::Status {
    TCC_RETURN_IF_ERROR(tx.Exec("CREATE TABLE points (user INTEGER PRIMARY KEY, balance INTEGER,"
                                " frozen INTEGER)")
                            .status());
    for (int u = 0; u < users; ++u) {
      TCC_RETURN_IF_ERROR(
          tx.Exec("INSERT INTO points VALUES (?, 1000000000, 0)", {int64_t{u}}).status());
    }
    return absl::OkStatus();
  });
}

tcc::sdk::ActionHandlers PointsHandlers(int64_t user) {
  return {.on_try = [user](tcc::sdk::LocalTx& tx,
                           const tcc::sdk::BranchRequest&) -> tcc::sdk::TryResult {
            TCC_RETURN_IF_ERROR(
                tx.Exec("UPDATE points SET frozen = frozen + 1 WHERE user = ?", {user}).status());
            return tcc::sdk::TryOutcome::Reserved();
          },
          .on_confirm =
              [user](tcc::sdk::LocalTx& tx, const tcc::sdk::BranchRequest&) {
                return tx
                    .Exec(
                        "UPDATE points SET frozen = frozen - 1, balance = balance - 1"
                        " WHERE user = ?",
                        {user})
                    .status();
              },
          .on_cancel = nullptr};
}

// One thread: Try then Confirm of a new branch, until the deadline.
void Worker(tcc::sdk::Database& db, int id, absl::Time deadline, std::atomic<int64_t>& calls,
            std::atomic<int64_t>& errors) {
  tcc::sdk::ActionHandlers handlers = PointsHandlers(id);
  tcc::sdk::BranchRequest request;
  request.set_branch_id("points");
  request.set_action("pay");
  for (int64_t n = 0; absl::Now() < deadline; ++n) {
    request.set_gid(absl::StrCat("bench-", id, "-", n));
    absl::Status status = tcc::sdk::RunTry(db, request, handlers.on_try).status();
    if (status.ok()) status = tcc::sdk::RunConfirm(db, request, handlers.on_confirm).status();
    calls += 2;
    if (!status.ok() && errors++ < 3) std::fprintf(stderr, "%s\n", status.ToString().c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  if (!Parse(argc, argv, flags)) return 2;
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(flags.path + suffix);
  tcc::sdk::SqliteOptions options;
  options.group_commit = flags.group_commit;
  options.synchronous_full = flags.sync_full;
  options.max_connections = flags.threads;
  absl::StatusOr<std::unique_ptr<tcc::sdk::Database>> db =
      tcc::sdk::OpenSqliteDatabase(flags.path, options);
  absl::Status ready = db.ok() ? Setup(**db, flags.threads) : db.status();
  if (!ready.ok()) {
    std::fprintf(stderr, "setup: %s\n", ready.ToString().c_str());
    return 1;
  }
  tcc::sdk::SqliteCommitStats before = tcc::sdk::GetSqliteCommitStats(**db);
  std::atomic<int64_t> calls{0}, errors{0};
  absl::Time start = absl::Now();
  absl::Time deadline = start + absl::Seconds(flags.seconds);
  std::vector<std::thread> threads;
  for (int t = 0; t < flags.threads; ++t) {
    threads.emplace_back([&, t] { Worker(**db, t, deadline, calls, errors); });
  }
  for (auto& thread : threads) thread.join();
  double elapsed = absl::ToDoubleSeconds(absl::Now() - start);
  tcc::sdk::SqliteCommitStats after = tcc::sdk::GetSqliteCommitStats(**db);
  int64_t transactions = after.transactions - before.transactions;
  std::printf(
      "group_commit=%d sync=%s threads=%d: %lld calls in %.1f s = %.0f calls/s, "
      "%lld transactions (%.1f calls each, largest %lld), %lld errors\n",
      flags.group_commit ? 1 : 0, flags.sync_full ? "full" : "normal", flags.threads,
      static_cast<long long>(calls.load()), elapsed, calls.load() / elapsed,
      static_cast<long long>(transactions),
      transactions > 0 ? static_cast<double>(after.calls - before.calls) / transactions : 0.0,
      static_cast<long long>(after.largest_group), static_cast<long long>(errors.load()));
  return errors.load() == 0 ? 0 : 1;
}
