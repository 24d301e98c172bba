#include "tcc/common/sqlite_status.h"

#include "absl/strings/str_cat.h"

namespace tcc {
namespace {

bool IsKeyConflict(int extended) {
  return extended == SQLITE_CONSTRAINT_UNIQUE || extended == SQLITE_CONSTRAINT_PRIMARYKEY ||
         extended == SQLITE_CONSTRAINT_ROWID;
}

// What the reader of the message can do about it.
absl::string_view Advice(int rc, absl::StatusCode code) {
  if ((rc & 0xff) == SQLITE_CONSTRAINT && code == absl::StatusCode::kFailedPrecondition) {
    return "the write conflicts with the stored data; the same write fails until that changes";
  }
  if ((rc & 0xff) == SQLITE_IOERR) {
    // Not "busy": the disk itself failed; an operator may have to look.
    return "the disk failed a read, write or sync; check the disk and the kernel log (dmesg), "
           "then retry";
  }
  switch (code) {
    case absl::StatusCode::kUnavailable:
      return "the database is busy or its storage failed transiently; retry";
    case absl::StatusCode::kResourceExhausted:
      return "the disk or memory is full; free space, then retry";
    case absl::StatusCode::kDataLoss:
      return "the database file is damaged or is not a SQLite database; restore it from a backup";
    case absl::StatusCode::kAlreadyExists:
      return "a row with this key already exists";
    case absl::StatusCode::kFailedPrecondition:
      return "the database file cannot be opened or written; check its path, permissions and "
             "mount, then retry";
    case absl::StatusCode::kPermissionDenied:
      return "the statement was not authorized";
    case absl::StatusCode::kCancelled:
      return "the statement was interrupted";
    case absl::StatusCode::kInvalidArgument:
      return "a bound value is too large or of the wrong type; retrying will not help";
    case absl::StatusCode::kAborted:
      return "the transaction was rolled back; retry it";
    default:
      return "a bug in the SQL or in its caller; retrying will not help";
  }
}

}  // namespace

absl::StatusCode SqliteStatusCode(int rc) {
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_PROTOCOL:
      return absl::StatusCode::kUnavailable;
    case SQLITE_FULL:
    case SQLITE_NOMEM:
      return absl::StatusCode::kResourceExhausted;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return absl::StatusCode::kDataLoss;
    case SQLITE_CONSTRAINT:
      return IsKeyConflict(rc) ? absl::StatusCode::kAlreadyExists
                               : absl::StatusCode::kFailedPrecondition;
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_CANTOPEN:
    case SQLITE_NOLFS:
      return absl::StatusCode::kFailedPrecondition;
    case SQLITE_AUTH:
      return absl::StatusCode::kPermissionDenied;
    case SQLITE_TOOBIG:
    case SQLITE_MISMATCH:
      return absl::StatusCode::kInvalidArgument;
    case SQLITE_ABORT:
      return absl::StatusCode::kAborted;
    case SQLITE_INTERRUPT:
      return absl::StatusCode::kCancelled;
    default:
      return absl::StatusCode::kInternal;
  }
}

absl::Status SqliteError(int rc, sqlite3* db, absl::string_view what) {
  // The connection's last error describes rc only if it is the same error:
  // some calls (a bind, a close) return a code without recording it there.
  const int recorded = db != nullptr ? sqlite3_extended_errcode(db) : SQLITE_OK;
  const bool same = db != nullptr && (recorded & 0xff) == (rc & 0xff);
  const int code = same ? recorded : rc;
  const char* message = same ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  const absl::StatusCode status_code = SqliteStatusCode(code);
  return absl::Status(status_code, absl::StrCat("sqlite: ", what, ": ", message, " (sqlite code ",
                                                code, "); ", Advice(code, status_code)));
}

}  // namespace tcc
