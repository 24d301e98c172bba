#include "examples/points-pay/common/postgres_db.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace pointspay {
namespace {

std::string Reason(PGconn* conn) {
  return std::string(absl::StripTrailingAsciiWhitespace(PQerrorMessage(conn)));
}

}  // namespace

absl::StatusOr<std::unique_ptr<PostgresDb>> PostgresDb::Open(const std::string& uri) {
  PGconn* conn = PQconnectdb(uri.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    absl::Status error =
        absl::UnavailableError(absl::StrCat("cannot connect to ", uri, ": ", Reason(conn)));
    PQfinish(conn);
    return error;
  }
  return std::unique_ptr<PostgresDb>(new PostgresDb(conn, uri));
}

PostgresDb::~PostgresDb() { PQfinish(conn_); }

absl::StatusOr<std::vector<TextRow>> PostgresDb::Query(const std::string& sql,
                                                       const std::vector<std::string>& params) {
  if (PQstatus(conn_) != CONNECTION_OK) PQreset(conn_);
  absl::StatusOr<std::vector<TextRow>> rows = QueryOnce(sql, params);
  if (rows.ok() || PQstatus(conn_) == CONNECTION_OK) return rows;
  PQreset(conn_);
  return QueryOnce(sql, params);
}

absl::StatusOr<std::vector<TextRow>> PostgresDb::QueryOnce(const std::string& sql,
                                                           const std::vector<std::string>& params) {
  std::vector<const char*> values;
  for (const std::string& p : params) values.push_back(p.c_str());
  PGresult* result = PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr,
                                  values.data(), nullptr, nullptr, 0);
  ExecStatusType status = PQresultStatus(result);
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
    absl::Status error = absl::UnavailableError(
        absl::StrCat(sql, ": ", absl::StripTrailingAsciiWhitespace(PQresultErrorMessage(result))));
    PQclear(result);
    return error;
  }
  std::vector<TextRow> rows(PQntuples(result));
  for (int r = 0; r < PQntuples(result); ++r) {
    for (int c = 0; c < PQnfields(result); ++c) rows[r].push_back(PQgetvalue(result, r, c));
  }
  PQclear(result);
  return rows;
}

absl::StatusOr<int64_t> PostgresDb::QueryInt(const std::string& sql,
                                             const std::vector<std::string>& params) {
  absl::StatusOr<std::vector<TextRow>> rows = Query(sql, params);
  if (!rows.ok()) return rows.status();
  int64_t value = 0;
  if (!rows->empty() && !rows->front().empty() && !absl::SimpleAtoi(rows->front()[0], &value)) {
    return absl::DataLossError(absl::StrCat(sql, ": not an integer: ", rows->front()[0]));
  }
  return value;
}

}  // namespace pointspay
