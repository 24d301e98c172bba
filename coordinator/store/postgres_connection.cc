#include "coordinator/store/postgres_connection.h"

#include <array>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "coordinator/store/postgres_status.h"
#include "tcc/common/status_macros.h"

namespace tcc::pg {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// bytea's hex output, "\x0aff...", to bytes.
absl::StatusOr<std::string> DecodeHex(absl::string_view text) {
  if (text.size() < 2 || text[0] != '\\' || text[1] != 'x' || text.size() % 2 != 0) {
    return absl::DataLossError("a bytea value is not in hex format (set bytea_output = 'hex')");
  }
  std::string bytes;
  bytes.reserve(text.size() / 2 - 1);
  for (size_t i = 2; i < text.size(); i += 2) {
    int high = HexValue(text[i]);
    int low = HexValue(text[i + 1]);
    if (high < 0 || low < 0) return absl::DataLossError("a bytea value has a bad hex digit");
    bytes.push_back(static_cast<char>(high * 16 + low));
  }
  return bytes;
}

// The length of the valid UTF-8 sequence at text[i], or 0 if there is none
// (overlong forms, surrogates and code points past U+10FFFF are invalid).
size_t Utf8SequenceLength(absl::string_view text, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char lead = byte(i);
  if (lead >= 0x01 && lead < 0x80) return 1;
  size_t length = lead >= 0xC2 && lead < 0xE0   ? 2
                  : lead >= 0xE0 && lead < 0xF0 ? 3
                  : lead >= 0xF0 && lead < 0xF5 ? 4
                                                : 0;
  if (length == 0 || i + length > text.size()) return 0;
  for (size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  }
  unsigned char second = byte(i + 1);
  if (lead == 0xE0 && second < 0xA0) return 0;   // Overlong.
  if (lead == 0xED && second >= 0xA0) return 0;  // Surrogate.
  if (lead == 0xF0 && second < 0x90) return 0;   // Overlong.
  if (lead == 0xF4 && second >= 0x90) return 0;  // Past U+10FFFF.
  return length;
}

std::string ValidUtf8(absl::string_view text) {
  std::string valid;
  valid.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    size_t length = Utf8SequenceLength(text, i);
    if (length == 0) {
      valid.append("\xEF\xBF\xBD");  // U+FFFD.
      ++i;
      continue;
    }
    valid.append(text.data() + i, length);
    i += length;
  }
  return valid;
}

// An element of a text[] literal: quoted, with " and \ escaped.
void AppendArrayElement(std::string& literal, absl::string_view element) {
  literal.push_back('"');
  for (char c : element) {
    if (c == '"' || c == '\\') literal.push_back('\\');
    literal.push_back(c);
  }
  literal.push_back('"');
}

}  // namespace

Params& Params::Text(absl::string_view value) {
  values_.push_back(ValidUtf8(value));
  formats_.push_back(0);
  return *this;
}

Params& Params::TextArray(const std::vector<std::string>& values) {
  std::string literal = "{";
  for (const std::string& value : values) {
    if (literal.size() > 1) literal.push_back(',');
    AppendArrayElement(literal, ValidUtf8(value));
  }
  literal.push_back('}');
  values_.push_back(std::move(literal));
  formats_.push_back(0);
  return *this;
}

Params& Params::Int(int64_t value) { return Text(absl::StrCat(value)); }

Params& Params::Bytes(absl::string_view value) {
  values_.emplace_back(value);
  formats_.push_back(1);
  return *this;
}

std::vector<const char*> Params::Values() const {
  std::vector<const char*> pointers;
  for (const std::string& value : values_) pointers.push_back(value.data());
  return pointers;
}

std::vector<int> Params::Lengths() const {
  std::vector<int> lengths;
  for (const std::string& value : values_) lengths.push_back(static_cast<int>(value.size()));
  return lengths;
}

std::string Rows::Text(int row, int column) const {
  return std::string(PQgetvalue(result_.get(), row, column),
                     PQgetlength(result_.get(), row, column));
}

absl::StatusOr<int64_t> Rows::Int(int row, int column) const {
  if (IsNull(row, column)) return 0;
  absl::string_view text(PQgetvalue(result_.get(), row, column));
  if (text == "t") return 1;
  if (text == "f") return 0;
  int64_t value = 0;
  if (!absl::SimpleAtoi(text, &value)) {
    return absl::DataLossError(absl::StrCat("column ", PQfname(result_.get(), column), " holds \"",
                                            text, "\", not an integer"));
  }
  return value;
}

absl::StatusOr<std::string> Rows::Bytes(int row, int column) const {
  if (IsNull(row, column)) return std::string();
  return DecodeHex(PQgetvalue(result_.get(), row, column));
}

int64_t Rows::Changed() const {
  int64_t changed = 0;
  return absl::SimpleAtoi(PQcmdTuples(result_.get()), &changed) ? changed : 0;
}

absl::StatusOr<ConnHandle> Connection::Connect(const std::string& uri, const std::string& app) {
  // Earlier entries are defaults that the URI (expanded from dbname)
  // overrides; fallback_application_name applies only if it names none.
  std::array<const char*, 5> keywords = {"connect_timeout", "client_encoding", "dbname",
                                         "fallback_application_name", nullptr};
  std::array<const char*, 5> values = {"10", "UTF8", uri.c_str(), app.c_str(), nullptr};
  ConnHandle conn(PQconnectdbParams(keywords.data(), values.data(), /*expand_dbname=*/1));
  if (conn == nullptr) return absl::ResourceExhaustedError("postgresql: out of memory");
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    // The message names the host; the URI may hold a password, so it is not
    // repeated here.
    return PostgresError(conn.get(), nullptr, "cannot connect to the --store database");
  }
  PGresult* set = PQexec(conn.get(), "SET bytea_output = 'hex'");
  ResultHandle result(set);
  if (PQresultStatus(set) != PGRES_COMMAND_OK) {
    return PostgresError(conn.get(), set, "SET bytea_output");
  }
  return conn;
}

absl::StatusOr<Connection> Connection::Open(const std::string& uri,
                                            const std::string& application_name) {
  TCC_ASSIGN_OR_RETURN(ConnHandle conn, Connect(uri, application_name));
  return Connection(std::move(conn), uri, application_name);
}

absl::Status Connection::Reconnect() {
  TCC_ASSIGN_OR_RETURN(ConnHandle conn, Connect(uri_, app_));
  conn_ = std::move(conn);
  prepared_.clear();
  sent_.clear();
  sent_failure_ = absl::OkStatus();
  lost_ = false;
  return absl::OkStatus();
}

bool Connection::InFailedTransaction() const {
  return PQtransactionStatus(conn_.get()) == PQTRANS_INERROR;
}

absl::StatusOr<Rows> Connection::Check(PGresult* raw, absl::string_view what) {
  ResultHandle result(raw);
  ExecStatusType status = PQresultStatus(raw);
  if (raw != nullptr && (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)) {
    return Rows(std::move(result));
  }
  const char* state = raw != nullptr ? PQresultErrorField(raw, PG_DIAG_SQLSTATE) : nullptr;
  const bool gone = PQstatus(conn_.get()) == CONNECTION_BAD;
  if (PostgresNeedsReconnect(state != nullptr ? state : "", gone)) lost_ = true;
  return PostgresError(conn_.get(), raw, what);
}

absl::StatusOr<Rows> Connection::Exec(absl::string_view sql) {
  ReadSent();
  ++statements_;
  if (!deferred_.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "postgresql: ", sql, " while statements wait for the next Query; drop them first"));
  }
  return Check(PQexec(conn_.get(), std::string(sql).c_str()), sql);
}

absl::StatusOr<std::string> Connection::Prepared(absl::string_view sql) {
  std::string key(sql);
  if (auto it = prepared_.find(key); it != prepared_.end()) return it->second;
  std::string name = absl::StrCat("tcc_", prepared_.size() + 1);
  TCC_RETURN_IF_ERROR(
      Check(PQprepare(conn_.get(), name.c_str(), key.c_str(), 0, nullptr), sql).status());
  prepared_.emplace(std::move(key), name);
  return name;
}

absl::StatusOr<Rows> Connection::Query(absl::string_view sql, const Params& params) {
  ReadSent();
  ++statements_;
  TCC_ASSIGN_OR_RETURN(std::string name, Prepared(sql));
  if (!deferred_.empty()) return Pipelined(name, sql, params);
  std::vector<const char*> values = params.Values();
  std::vector<int> lengths = params.Lengths();
  return Check(PQexecPrepared(conn_.get(), name.c_str(), params.size(), values.data(),
                              lengths.data(), params.Formats(), /*resultFormat=*/0),
               sql);
}

absl::StatusOr<Rows> Connection::Pipelined(const std::string& name, absl::string_view sql,
                                           const Params& params) {
  std::vector<std::string> deferred = std::move(deferred_);
  deferred_.clear();
  deferred_failed_ = false;
  PGconn* conn = conn_.get();
  if (PQenterPipelineMode(conn) != 1) {
    lost_ = PQstatus(conn) == CONNECTION_BAD;
    return PostgresError(conn, nullptr, "entering pipeline mode");
  }
  bool sent = true;
  for (const std::string& statement : deferred) {
    sent = sent && SendInPipeline("", statement, Params());
  }
  sent = sent && SendInPipeline(name, sql, params);
  sent = sent && PQpipelineSync(conn) == 1;
  std::vector<ResultHandle> results =
      sent ? PipelineResults(deferred.size() + 1) : std::vector<ResultHandle>();
  if (PQexitPipelineMode(conn) != 1 || results.size() != deferred.size() + 1) {
    // Only a broken connection leaves results unread.
    lost_ = true;
    return PostgresError(conn, nullptr, sql);
  }
  // The first failure is the one to report; the commands after it were
  // skipped (PGRES_PIPELINE_ABORTED).
  for (size_t i = 0; i < deferred.size(); ++i) {
    absl::Status done = Check(results[i].release(), deferred[i]).status();
    if (!done.ok()) {
      deferred_failed_ = true;
      return done;
    }
  }
  return Check(results.back().release(), sql);
}

absl::Status Connection::Send(absl::string_view sql, const Params& params, AnswerCheck check) {
  ++statements_;
  if (!deferred_.empty()) {
    return absl::FailedPreconditionError(
        "postgresql: Send while statements wait for the next Query; drop them first");
  }
  PGconn* conn = conn_.get();
  std::string text(sql);
  std::string name;
  const bool with_values = params.size() > 0;
  if (with_values) {
    if (auto it = prepared_.find(text); it != prepared_.end()) {
      name = it->second;
    } else if (sent_.empty()) {
      // Not in pipeline mode yet: prepared the usual way.
      TCC_ASSIGN_OR_RETURN(name, Prepared(sql));
    }
  }
  if (sent_.empty() && PQenterPipelineMode(conn) != 1) {
    lost_ = PQstatus(conn) == CONNECTION_BAD;
    return PostgresError(conn, nullptr, "entering pipeline mode");
  }
  bool sent = true;
  if (with_values && name.empty()) {
    // First used inside the pipeline: prepared there, answered in turn.
    name = absl::StrCat("tcc_", prepared_.size() + 1);
    sent = PQsendPrepare(conn, name.c_str(), text.c_str(), 0, nullptr) == 1;
    prepared_.emplace(text, name);
    sent_.push_back({.what = text, .prepared_sql = text});
  }
  sent = sent && SendInPipeline(name, text, params);
  sent_.push_back({.what = std::move(text), .check = std::move(check)});
  // Flushed now, so the server works on it while the next one is built.
  sent = sent && PQflush(conn) == 0;
  if (sent) return absl::OkStatus();
  lost_ = true;
  return PostgresError(conn, nullptr, sql);
}

bool Connection::SendInPipeline(absl::string_view name, absl::string_view sql,
                                const Params& params) {
  PGconn* conn = conn_.get();
  if (name.empty()) {
    return PQsendQueryParams(conn, std::string(sql).c_str(), 0, nullptr, nullptr, nullptr, nullptr,
                             /*resultFormat=*/0) == 1;
  }
  std::vector<const char*> values = params.Values();
  std::vector<int> lengths = params.Lengths();
  return PQsendQueryPrepared(conn, std::string(name).c_str(), params.size(), values.data(),
                             lengths.data(), params.Formats(), /*resultFormat=*/0) == 1;
}

absl::Status Connection::FinishSent() {
  ReadSent();
  return std::exchange(sent_failure_, absl::OkStatus());
}

void Connection::ReadSent() {
  if (sent_.empty()) return;
  std::vector<Sent> sent = std::move(sent_);
  sent_.clear();
  PGconn* conn = conn_.get();
  std::vector<ResultHandle> results =
      PQpipelineSync(conn) == 1 ? PipelineResults(sent.size()) : std::vector<ResultHandle>();
  const bool exited = PQexitPipelineMode(conn) == 1;
  for (size_t i = 0; i < sent.size(); ++i) {
    absl::Status judged;
    if (i >= results.size()) {
      judged = PostgresError(conn, nullptr, absl::StrCat("reading the answer to ", sent[i].what));
    } else {
      absl::StatusOr<Rows> rows = Check(results[i].release(), sent[i].what);
      judged = rows.ok() && sent[i].check ? sent[i].check(*rows) : rows.status();
    }
    if (!judged.ok() && !sent[i].prepared_sql.empty()) prepared_.erase(sent[i].prepared_sql);
    sent_failure_.Update(judged);
  }
  // Only a broken connection leaves answers unread.
  if (!exited || results.size() != sent.size()) lost_ = true;
}

std::vector<ResultHandle> Connection::PipelineResults(size_t commands) {
  // Each command's result is followed by a NULL; the sync point's result
  // ends the pipeline. Two NULLs in a row: the connection is gone.
  std::vector<ResultHandle> results;
  bool last_was_null = false;
  while (true) {
    PGresult* raw = PQgetResult(conn_.get());
    if (raw == nullptr) {
      if (last_was_null) break;
      last_was_null = true;
      continue;
    }
    last_was_null = false;
    if (PQresultStatus(raw) == PGRES_PIPELINE_SYNC) {
      PQclear(raw);
      break;
    }
    if (results.size() < commands) {
      results.emplace_back(raw);
    } else {
      PQclear(raw);
    }
  }
  return results;
}

}  // namespace tcc::pg
