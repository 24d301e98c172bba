// The one mapping from SQLite result codes to absl::Status, shared by the
// coordinator's store and the participant SDK, so that a store failure
// reaches a client with a code that says whether retrying can help.
//
// By primary result code (the low byte of an extended code):
//   BUSY, LOCKED, IOERR, PROTOCOL     -> UNAVAILABLE: another connection
//                                        holds the lock, or the disk failed
//                                        transiently; retry the call.
//   FULL, NOMEM                       -> RESOURCE_EXHAUSTED: the disk (or
//                                        memory) is full; retrying helps
//                                        only once space is freed.
//   CORRUPT, NOTADB                   -> DATA_LOSS: the file is damaged or
//                                        is not a SQLite database; retrying
//                                        never helps, restore a backup.
//   CONSTRAINT                        -> ALREADY_EXISTS for a UNIQUE or
//                                        PRIMARY KEY (or rowid) conflict:
//                                        the row the caller is creating is
//                                        there already. FAILED_PRECONDITION
//                                        for every other constraint (NOT
//                                        NULL, CHECK, FOREIGN KEY): the
//                                        write does not fit the stored state,
//                                        and the same write fails until that
//                                        state changes.
//   READONLY, PERM, CANTOPEN, NOLFS   -> FAILED_PRECONDITION: the file cannot
//                                        be opened or written (path,
//                                        permissions, a read-only mount);
//                                        retry after an operator fixed it.
//                                        Not PERMISSION_DENIED, which would
//                                        blame the caller's credentials.
//   AUTH                              -> PERMISSION_DENIED (an authorizer
//                                        refused the statement).
//   TOOBIG, MISMATCH                  -> INVALID_ARGUMENT: a bound value is
//                                        too large or has the wrong type for
//                                        its column, whatever the state.
//   ABORT                             -> ABORTED: the statement was rolled
//                                        back; retry the whole transaction.
//   INTERRUPT                         -> CANCELLED.
//   anything else (ERROR, MISUSE,     -> INTERNAL: bad SQL, a bad bind index,
//   RANGE, SCHEMA, INTERNAL, ...)        an API used wrongly: a bug, not
//                                        something a retry fixes.
//
// Stateless and thread-safe (it reads only the connection's last error,
// which belongs to the thread using that connection).
#pragma once

#include <sqlite3.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace tcc {

// The absl code for a SQLite result code, primary or extended.
absl::StatusCode SqliteStatusCode(int rc);

// The status for a SQLite call that returned rc (not SQLITE_OK, SQLITE_ROW
// or SQLITE_DONE). `what` names what failed (the SQL, "bind ?3", "open
// PATH"); db, when not null, is the connection the call used and supplies
// SQLite's own message and extended code. The message reads
// "sqlite: WHAT: SQLITE MESSAGE (sqlite code N); ADVICE".
absl::Status SqliteError(int rc, sqlite3* db, absl::string_view what);

}  // namespace tcc
