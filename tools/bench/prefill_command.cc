#include "tools/bench/prefill_command.h"

#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "tcc/common/status_macros.h"
#include "tools/bench/bench_env.h"
#include "tools/bench/driver.h"
#include "tools/bench/workloads.h"

namespace tcc::bench {
namespace {

constexpr int64_t kGtsPerTransaction = 50000;

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using Db = std::unique_ptr<sqlite3, DbCloser>;
using Stmt = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

absl::Status Check(sqlite3* db, int rc, absl::string_view what) {
  if (rc == SQLITE_OK || rc == SQLITE_DONE || rc == SQLITE_ROW) return absl::OkStatus();
  return absl::InternalError(absl::StrCat(what, ": ", sqlite3_errmsg(db)));
}

absl::StatusOr<Stmt> Prepare(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* raw = nullptr;
  TCC_RETURN_IF_ERROR(Check(db, sqlite3_prepare_v2(db, sql.c_str(), -1, &raw, nullptr), sql));
  return Stmt(raw);
}

absl::StatusOr<std::vector<std::string>> Columns(sqlite3* db, const std::string& table) {
  TCC_ASSIGN_OR_RETURN(Stmt stmt, Prepare(db, absl::StrCat("PRAGMA table_info(", table, ")")));
  std::vector<std::string> columns;
  while (sqlite3_step(stmt.get()) == SQLITE_ROW) {
    columns.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(stmt.get(), 1)));
  }
  return columns;
}

// INSERT INTO t (cols) SELECT cols FROM t WHERE gid = ?1, with gid replaced
// by ?2, created_ms by ?3, and the event sequence number left to SQLite.
absl::StatusOr<Stmt> CloneStatement(sqlite3* db, const std::string& table) {
  TCC_ASSIGN_OR_RETURN(std::vector<std::string> columns, Columns(db, table));
  std::vector<std::string> names, values;
  for (const std::string& column : columns) {
    if (column == "seq") continue;
    names.push_back(column);
    if (column == "gid") {
      values.push_back("?2");
    } else if (column == "created_ms") {
      values.push_back("?3");
    } else {
      values.push_back(column);
    }
  }
  return Prepare(db,
                 absl::StrCat("INSERT INTO ", table, " (", absl::StrJoin(names, ","), ") SELECT ",
                              absl::StrJoin(values, ","), " FROM ", table, " WHERE gid = ?1"));
}

// Runs one committed GT through tccd so the file has the schema and a
// template (the newest finished GT, picked up by Clone).
absl::Status MakeTemplate(const TccdOptions& tccd, const PrefillOptions& options) {
  TCC_ASSIGN_OR_RETURN(auto env, BenchEnv::Start(tccd, 1, false, false));
  LoadOptions load;
  load.branches = options.branches;
  auto channels = MakeChannels(env->coordinator_address(), 1, env->channel_credentials());
  TCC_ASSIGN_OR_RETURN(auto workload,
                       MakeTransactionWorkload(load, channels, env->participant_targets()));
  DriveOptions drive;
  drive.concurrency = 1;
  drive.max_units = 1;
  drive.label = "template";
  DriveResult result = Drive(*workload, drive);
  if (result.latency.count != 1) return absl::UnavailableError("the template GT failed");
  std::this_thread::sleep_for(std::chrono::seconds(1));  // its Confirms finish
  env->tccd()->Stop();
  return absl::OkStatus();
}

absl::Status Clone(sqlite3* db, const PrefillOptions& options) {
  TCC_ASSIGN_OR_RETURN(Stmt find, Prepare(db,
                                          "SELECT gid, created_ms FROM global_transactions "
                                          "WHERE finished = 1 ORDER BY created_ms DESC LIMIT 1"));
  if (sqlite3_step(find.get()) != SQLITE_ROW) return absl::NotFoundError("no finished template GT");
  std::string source(reinterpret_cast<const char*>(sqlite3_column_text(find.get(), 0)));
  int64_t created = sqlite3_column_int64(find.get(), 1);
  // An open read statement pins the WAL: without this no checkpoint runs
  // and the WAL grows to the size of everything written.
  find.reset();
  std::vector<Stmt> clones;
  for (const char* table : {"global_transactions", "branches", "transaction_events"}) {
    TCC_ASSIGN_OR_RETURN(Stmt clone, CloneStatement(db, table));
    clones.push_back(std::move(clone));
  }
  TCC_RETURN_IF_ERROR(
      Check(db, sqlite3_exec(db, "PRAGMA synchronous=OFF", nullptr, nullptr, nullptr), "pragma"));
  auto started = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < options.count; ++i) {
    if (i % kGtsPerTransaction == 0) {
      if (i > 0)
        TCC_RETURN_IF_ERROR(
            Check(db, sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), "commit"));
      TCC_RETURN_IF_ERROR(Check(db, sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr), "begin"));
      double elapsed =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      std::fprintf(stderr, "[prefill %6.1fs] %lld GTs\n", elapsed, static_cast<long long>(i));
    }
    // Older than the template, one millisecond apart: like a long history.
    std::string gid = absl::StrFormat("tcc-prefill-%012d", i);
    for (Stmt& clone : clones) {
      sqlite3_reset(clone.get());
      sqlite3_bind_text(clone.get(), 1, source.c_str(), -1, SQLITE_STATIC);
      sqlite3_bind_text(clone.get(), 2, gid.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64(clone.get(), 3, created - options.count + i);
      TCC_RETURN_IF_ERROR(Check(db, sqlite3_step(clone.get()), "clone"));
    }
  }
  TCC_RETURN_IF_ERROR(Check(db, sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), "commit"));
  TCC_RETURN_IF_ERROR(Check(
      db, sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", nullptr, nullptr, nullptr), "ckpt"));
  double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("prefill: cloned %s into %lld finished GTs in %.1f s\n", source.c_str(),
              static_cast<long long>(options.count), elapsed);
  return absl::OkStatus();
}

}  // namespace

absl::Status RunPrefill(const TccdOptions& tccd, const PrefillOptions& options) {
  if (options.data.empty()) return absl::InvalidArgumentError("prefill needs --data FILE");
  TccdOptions on_file = tccd;
  on_file.data = options.data;
  on_file.addr.clear();
  TCC_RETURN_IF_ERROR(MakeTemplate(on_file, options));
  sqlite3* raw = nullptr;
  int rc = sqlite3_open(options.data.c_str(), &raw);
  Db db(raw);
  TCC_RETURN_IF_ERROR(Check(raw, rc, absl::StrCat("open ", options.data)));
  TCC_RETURN_IF_ERROR(Clone(db.get(), options));
  std::fflush(stdout);
  return absl::OkStatus();
}

absl::Status MakeRetriesDue(const std::string& data) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open(data.c_str(), &raw);
  Db db(raw);
  TCC_RETURN_IF_ERROR(Check(raw, rc, absl::StrCat("open ", data)));
  return Check(raw,
               sqlite3_exec(raw, "UPDATE branches SET next_retry_ms = 0 WHERE next_retry_ms > 0",
                            nullptr, nullptr, nullptr),
               "make retries due");
}

}  // namespace tcc::bench
