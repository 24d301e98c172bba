#include "coordinator/store/postgres_status.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace tcc {
namespace {

bool InClass(absl::string_view sqlstate, absl::string_view klass) {
  return absl::StartsWith(sqlstate, klass);
}

bool IsConnectionLevel(absl::string_view sqlstate) {
  return InClass(sqlstate, "08") || sqlstate == "57P01" || sqlstate == "57P02" ||
         sqlstate == "57P03" || sqlstate == "53300";
}

bool IsMisconfigured(absl::string_view sqlstate) {
  return InClass(sqlstate, "28") || sqlstate == "3D000" || sqlstate == "3F000" ||
         sqlstate == "42501";
}

// What the reader of the message can do about it.
absl::string_view Advice(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kUnavailable:
      return "the database is unreachable, restarting or not writable (a standby?); tccd "
             "reconnects at its next batch; retry";
    case absl::StatusCode::kAborted:
      return "the database transaction was rolled back; retry it";
    case absl::StatusCode::kAlreadyExists:
      return "a row with this key already exists";
    case absl::StatusCode::kResourceExhausted:
      return "the database server is out of disk or memory; free some, then retry";
    case absl::StatusCode::kDataLoss:
      return "the database reports damaged data; restore it from a backup";
    case absl::StatusCode::kInvalidArgument:
      return "a value does not fit its column; retrying will not help";
    case absl::StatusCode::kFailedPrecondition:
      return "check the --store URI (host, database, user, password, schema) and the user's "
             "grants, then restart tccd";
    case absl::StatusCode::kCancelled:
      return "the statement was cancelled";
    default:
      return "a bug in the SQL or in its caller; retrying will not help";
  }
}

}  // namespace

absl::StatusCode PostgresStatusCode(absl::string_view sqlstate, bool connection_lost) {
  if (connection_lost || IsConnectionLevel(sqlstate)) return absl::StatusCode::kUnavailable;
  if (sqlstate == "25006" || sqlstate == "55P03" || sqlstate == "40003") {
    return absl::StatusCode::kUnavailable;
  }
  if (sqlstate == "40001" || sqlstate == "40P01" || sqlstate == "25P02") {
    return absl::StatusCode::kAborted;
  }
  if (sqlstate == "23505") return absl::StatusCode::kAlreadyExists;
  if (InClass(sqlstate, "23")) return absl::StatusCode::kFailedPrecondition;
  if (InClass(sqlstate, "53")) return absl::StatusCode::kResourceExhausted;
  if (sqlstate == "XX001" || sqlstate == "XX002") return absl::StatusCode::kDataLoss;
  if (InClass(sqlstate, "22")) return absl::StatusCode::kInvalidArgument;
  if (IsMisconfigured(sqlstate)) return absl::StatusCode::kFailedPrecondition;
  if (sqlstate == "57014") return absl::StatusCode::kCancelled;
  return absl::StatusCode::kInternal;
}

bool PostgresNeedsReconnect(absl::string_view sqlstate, bool connection_lost) {
  return connection_lost || IsConnectionLevel(sqlstate) || sqlstate == "25006";
}

absl::Status PostgresError(PGconn* conn, const PGresult* result, absl::string_view what) {
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  absl::string_view sqlstate = state != nullptr ? state : "";
  const bool lost = conn == nullptr || PQstatus(conn) == CONNECTION_BAD;
  const char* message = result != nullptr ? PQresultErrorMessage(result) : "";
  if (message == nullptr || *message == '\0') {
    message = conn != nullptr ? PQerrorMessage(conn) : "no connection";
  }
  absl::string_view text = absl::StripAsciiWhitespace(message);
  absl::StatusCode code = PostgresStatusCode(sqlstate, lost);
  return absl::Status(
      code, absl::StrCat("postgresql: ", what, ": ", text,
                         sqlstate.empty() ? "" : absl::StrCat(" (SQLSTATE ", sqlstate, ")"), "; ",
                         Advice(code)));
}

}  // namespace tcc
