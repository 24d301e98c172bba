// Fuzzes the store's decoding of persisted records: fuzzed rows are written
// by a second connection into a database with tccd's schema, then read back
// the way lookups and recovery read them. Properties: no crash or sanitizer
// report; a damaged row is reported as DATA_LOSS, never resumed as if it
// were valid; whatever is read back has only known states.
#include <fuzzer/FuzzedDataProvider.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "coordinator/store/headers_codec.h"
#include "coordinator/store/sqlite_store.h"

namespace {

void Check(bool condition) {
  if (!condition) std::abort();
}

struct Databases {
  std::unique_ptr<tcc::SqliteStore> store;
  sqlite3* writer = nullptr;
};

Databases& Open() {
  static Databases databases = [] {
    std::string path = "/tmp/tcc-store-fuzz-" + std::to_string(getpid()) + ".db";
    std::remove(path.c_str());
    auto store = tcc::SqliteStore::Open({.path = path, .sync = tcc::SyncMode::kOff});
    Check(store.ok());
    Databases opened{std::move(*store), nullptr};
    Check(sqlite3_open(path.c_str(), &opened.writer) == SQLITE_OK);
    return opened;
  }();
  return databases;
}

// Binds `texts` fuzzed blobs, then `ints` small fuzzed integers.
void Insert(sqlite3* db, const char* sql, FuzzedDataProvider& data, int texts, int ints) {
  sqlite3_stmt* stmt = nullptr;
  Check(sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) == SQLITE_OK);
  int index = 1;
  for (int i = 0; i < texts; ++i) {
    std::string text = i == 0 ? "g" : data.ConsumeRandomLengthString(40);
    sqlite3_bind_blob(stmt, index++, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  }
  for (int i = 0; i < ints; ++i) {
    sqlite3_bind_int64(stmt, index++, data.ConsumeIntegralInRange<int64_t>(-2, 9));
  }
  sqlite3_step(stmt);
  sqlite3_finalize(stmt);
}

void CheckRead(const absl::StatusOr<std::optional<tcc::GlobalTransaction>>& read) {
  if (!read.ok()) {
    Check(read.status().code() == absl::StatusCode::kDataLoss);
    return;
  }
  if (!read->has_value()) return;
  Check(tcc::IsValidTxState(static_cast<int>((*read)->state)));
  for (const tcc::Branch& branch : (*read)->branches) {
    Check(tcc::IsValidBranchState(static_cast<int>(branch.state)));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  FuzzedDataProvider data(bytes, size);
  std::string encoded = data.ConsumeRandomLengthString(64);
  absl::StatusOr<tcc::Headers> headers = tcc::DecodeHeaders(encoded);
  if (headers.ok()) Check(*tcc::DecodeHeaders(tcc::EncodeHeaders(*headers)) == *headers);

  Databases& db = Open();
  sqlite3_exec(db.writer, "DELETE FROM global_transactions; DELETE FROM branches;", nullptr,
               nullptr, nullptr);
  Insert(db.writer,
         "INSERT INTO global_transactions (gid, status_endpoint, decision_reason, state, "
         "finished, created_ms, updated_ms, timeout_ms, deadline_ms, stuck, mode) "
         "VALUES (?,?,?,?,?,?,?,?,?,?,?)",
         data, 3, 8);
  int branches = data.ConsumeIntegralInRange(0, 3);
  for (int i = 0; i < branches; ++i) {
    Insert(db.writer,
           "INSERT INTO branches (gid, branch_id, target, action, payload, headers, last_error, "
           "depends_on, position, state, attempts, next_retry_ms, max_attempts, timeout_ms) "
           "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
           data, 8, 6);
  }
  CheckRead(db.store->Find("g"));
  absl::StatusOr<std::vector<tcc::GlobalTransaction>> unfinished = db.store->LoadUnfinished();
  if (!unfinished.ok()) Check(unfinished.status().code() == absl::StatusCode::kDataLoss);
  return 0;
}
