// The one mapping from PostgreSQL errors to absl::Status for the
// coordinator's PostgreSQL store, so that a failure reaches a client with a
// code that says whether retrying can help (the SQLite equivalent is
// tcc/common/sqlite_status.h).
//
// By SQLSTATE (class = its first two characters):
//   no SQLSTATE with the connection gone,   -> UNAVAILABLE: the server went
//   class 08 (connection exception),           away, restarts, fails over or
//   57P01..57P03 (shutdown, cannot connect),   is refusing connections; the
//   53300 (too many connections),              store reconnects at its next
//   25006 (read-only transaction: a standby),  batch; retry the call.
//   55P03 (lock not available), 40003
//   (statement completion unknown)
//   40001 (serialization), 40P01 (deadlock) -> ABORTED: retry the whole
//   25P02 (transaction already aborted)        transaction.
//   23505 (unique violation)                -> ALREADY_EXISTS.
//   other class 23 (integrity constraints)  -> FAILED_PRECONDITION.
//   53xxx other (disk full, out of memory)  -> RESOURCE_EXHAUSTED.
//   XX001, XX002 (data, index corrupted)    -> DATA_LOSS: restore a backup.
//   class 22 (data exception: bad value)    -> INVALID_ARGUMENT.
//   class 28 (authorization), 3D000 (no     -> FAILED_PRECONDITION: the
//   such database), 42501 (privilege),         connection URI or the grants
//   3F000 (no such schema)                     are wrong; fix them, restart.
//                                              Not PERMISSION_DENIED, which
//                                              would blame a client.
//   57014 (query canceled)                  -> CANCELLED.
//   anything else (class 42 syntax, ...)    -> INTERNAL: a bug.
// A failed connection attempt has no SQLSTATE (libpq gives none): it is
// UNAVAILABLE, with libpq's reason (no such host, database or user, bad
// password) in the message.
//
// Stateless and thread-safe.
#pragma once

#include <libpq-fe.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace tcc {

// The absl code for a SQLSTATE; `connection_lost` when libpq reports the
// connection bad (then the SQLSTATE, often empty, does not matter).
absl::StatusCode PostgresStatusCode(absl::string_view sqlstate, bool connection_lost);

// True for errors after which the connection must be replaced: it is gone,
// or it reached a server that cannot take writes (a standby after a
// failover, a server shutting down).
bool PostgresNeedsReconnect(absl::string_view sqlstate, bool connection_lost);

// The status for a failed call. `what` names what failed (the SQL, "connect
// to HOST"); `result` (may be null) supplies the SQLSTATE and message, else
// the connection's last error message. Reads
// "postgresql: WHAT: MESSAGE (SQLSTATE X); ADVICE".
absl::Status PostgresError(PGconn* conn, const PGresult* result, absl::string_view what);

}  // namespace tcc
