"""Errors of the library: one exception type carrying a gRPC status code.

TccError's code means what the gRPC (and absl) code means: UNAVAILABLE,
retry the call; ABORTED, retry at a higher level; FAILED_PRECONDITION, do
not retry until the state changes. A handler may raise it to answer the
coordinator with that code; the participant server and status endpoint send
it on the wire unchanged. SQLite errors are mapped to codes exactly as the
C++ SDK maps them (common/src/sqlite_status.cc).
"""

import sqlite3

import grpc


class TccError(Exception):
    """A failure with a gRPC status code and a message that says what to do."""

    def __init__(self, code: grpc.StatusCode, message: str):
        super().__init__(f"{code.name}: {message}")
        self.code = code
        self.message = message


class FencedError(TccError):
    """The coordinator's back-query fenced the gid before the local commit."""

    def __init__(self, gid: str):
        super().__init__(
            grpc.StatusCode.FAILED_PRECONDITION,
            f"transaction {gid} was rolled back by the coordinator's back-query; "
            "local changes discarded",
        )
        self.gid = gid


def invalid_argument(message: str) -> TccError:
    return TccError(grpc.StatusCode.INVALID_ARGUMENT, message)


def failed_precondition(message: str) -> TccError:
    return TccError(grpc.StatusCode.FAILED_PRECONDITION, message)


# Primary SQLite result codes (sqlite3.h).
_SQLITE_CODES = {
    5: grpc.StatusCode.UNAVAILABLE,  # BUSY
    6: grpc.StatusCode.UNAVAILABLE,  # LOCKED
    10: grpc.StatusCode.UNAVAILABLE,  # IOERR
    15: grpc.StatusCode.UNAVAILABLE,  # PROTOCOL
    13: grpc.StatusCode.RESOURCE_EXHAUSTED,  # FULL
    7: grpc.StatusCode.RESOURCE_EXHAUSTED,  # NOMEM
    11: grpc.StatusCode.DATA_LOSS,  # CORRUPT
    26: grpc.StatusCode.DATA_LOSS,  # NOTADB
    19: grpc.StatusCode.FAILED_PRECONDITION,  # CONSTRAINT
    8: grpc.StatusCode.FAILED_PRECONDITION,  # READONLY
    3: grpc.StatusCode.FAILED_PRECONDITION,  # PERM
    14: grpc.StatusCode.FAILED_PRECONDITION,  # CANTOPEN
    22: grpc.StatusCode.FAILED_PRECONDITION,  # NOLFS
    23: grpc.StatusCode.PERMISSION_DENIED,  # AUTH
    18: grpc.StatusCode.INVALID_ARGUMENT,  # TOOBIG
    20: grpc.StatusCode.INVALID_ARGUMENT,  # MISMATCH
    4: grpc.StatusCode.ABORTED,  # ABORT
    9: grpc.StatusCode.CANCELLED,  # INTERRUPT
}


def _sqlite_code(error: sqlite3.Error) -> grpc.StatusCode:
    rc = getattr(error, "sqlite_errorcode", None)
    if rc is None:
        # Older Pythons: "database is locked" is the one worth recognising.
        locked = "locked" in str(error) or "busy" in str(error)
        return grpc.StatusCode.UNAVAILABLE if locked else grpc.StatusCode.INTERNAL
    return _SQLITE_CODES.get(rc & 0xFF, grpc.StatusCode.INTERNAL)


def to_tcc_error(error: BaseException, what: str) -> TccError:
    """The TccError to answer for `error`, raised while doing `what`."""
    if isinstance(error, TccError):
        return error
    if isinstance(error, sqlite3.Error):
        code = _sqlite_code(error)
        advice = (
            "retry the call" if code == grpc.StatusCode.UNAVAILABLE
            else "retrying will not help until the cause is fixed"
        )
        return TccError(code, f"sqlite: {what}: {error}; {advice}")
    return TccError(
        grpc.StatusCode.INTERNAL,
        f"{what}: {type(error).__name__}: {error}; this is a bug in the handler "
        "(raise tcc_participant.TccError with a code for an expected failure)",
    )
