"""The service's own SQLite database, as the library sees it.

open_sqlite_database() opens a file in WAL mode with synchronous=FULL (an
acknowledged Try survives power loss) and a busy timeout, as the C++ SDK's
OpenSqliteDatabase does. Database.run_in_transaction(fn) runs fn(tx) in one
write transaction (BEGIN IMMEDIATE ... COMMIT, or ROLLBACK if fn raises):
the barrier and decision rows and a handler's business writes go through
the same LocalTx, so they commit or roll back together.

Thread-safety: a Database may be used from many threads (it hands each call
a connection of its own from a small pool) and many processes may open the
same file. A LocalTx belongs to the call that received it.
"""

import queue
import sqlite3
import threading
from typing import Any, Callable, List, Optional, Sequence, Tuple, TypeVar

import grpc

from .errors import TccError, to_tcc_error

T = TypeVar("T")
Row = Tuple[Any, ...]


class LocalTx:
    """The open local transaction handed to a handler.

    Statements take '?' placeholders bound in order from `params`. Never
    BEGIN, COMMIT or ROLLBACK yourself: the library does, around your
    writes and its own row together.
    """

    def __init__(self, connection: sqlite3.Connection):
        self._connection = connection

    def exec(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Runs one statement; returns how many rows it changed."""
        return self._connection.execute(sql, tuple(params)).rowcount

    def query(self, sql: str, params: Sequence[Any] = ()) -> List[Row]:
        """Runs one query; returns every row as a tuple."""
        return self._connection.execute(sql, tuple(params)).fetchall()

    def query_one(self, sql: str, params: Sequence[Any] = ()) -> Optional[Row]:
        """The first row of a query, or None."""
        return self._connection.execute(sql, tuple(params)).fetchone()


class Database:
    """A SQLite file with a pool of connections; see open_sqlite_database."""

    def __init__(self, path: str, busy_timeout_s: float, synchronous_full: bool,
                 max_connections: int):
        self.path = path
        self._busy_timeout_s = busy_timeout_s
        self._synchronous = "FULL" if synchronous_full else "NORMAL"
        self._idle: "queue.LifoQueue[sqlite3.Connection]" = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(max_connections)
        self._lock = threading.Lock()
        self._all: List[sqlite3.Connection] = []
        self._closed = False

    def run_in_transaction(self, fn: Callable[[LocalTx], T]) -> T:
        """Runs fn(tx) in one write transaction and returns its result.

        Commits when fn returns, rolls back when it raises (the exception
        propagates). BEGIN IMMEDIATE takes SQLite's write lock up front, so
        a read inside fn that decides a write cannot be overtaken.
        """
        return self._run("BEGIN IMMEDIATE", fn)

    def run_read_only(self, fn: Callable[[LocalTx], T]) -> T:
        """Runs fn(tx) in a read transaction (no write lock)."""
        return self._run("BEGIN DEFERRED", fn)

    def close(self) -> None:
        """Closes every connection; calls after this fail."""
        with self._lock:
            self._closed = True
            connections, self._all = self._all, []
        for connection in connections:
            connection.close()

    def _run(self, begin: str, fn: Callable[[LocalTx], T]) -> T:
        connection = self._acquire()
        try:
            connection.execute(begin)
            try:
                result = fn(LocalTx(connection))
                connection.execute("COMMIT")
                return result
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise
        except sqlite3.Error as error:
            raise to_tcc_error(error, f"transaction on {self.path}") from error
        finally:
            self._release(connection)

    def _acquire(self) -> sqlite3.Connection:
        if not self._slots.acquire(timeout=self._busy_timeout_s):
            raise TccError(
                grpc.StatusCode.UNAVAILABLE,
                f"sqlite: every connection to {self.path} stayed busy for "
                f"{self._busy_timeout_s}s; retry the call")
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        try:
            return self._open()
        except BaseException:
            self._slots.release()
            raise

    def _release(self, connection: sqlite3.Connection) -> None:
        self._idle.put(connection)
        self._slots.release()

    def _open(self) -> sqlite3.Connection:
        with self._lock:
            if self._closed:
                raise TccError(grpc.StatusCode.FAILED_PRECONDITION,
                               f"database {self.path} is closed")
        try:
            # isolation_level=None: no implicit BEGIN; this class says when.
            connection = sqlite3.connect(self.path, timeout=self._busy_timeout_s,
                                         isolation_level=None, check_same_thread=False)
            connection.execute("PRAGMA journal_mode=WAL").fetchall()
            connection.execute(f"PRAGMA synchronous={self._synchronous}")
        except sqlite3.Error as error:
            raise to_tcc_error(error, f"open {self.path}") from error
        with self._lock:
            self._all.append(connection)
        return connection


def open_sqlite_database(path: str, busy_timeout_s: float = 5.0, synchronous_full: bool = True,
                         max_connections: int = 4) -> Database:
    """Opens (creating if missing) the SQLite file at `path`.

    busy_timeout_s: how long a call waits for another writer (then
    UNAVAILABLE, as in the C++ SDK's SqliteOptions::busy_timeout).
    synchronous_full: fsync every commit (default); False is durable against
    process crashes only (tests use it). max_connections: connections open
    at once; the participant server's worker threads share them.
    """
    if max_connections < 1:
        raise TccError(grpc.StatusCode.INVALID_ARGUMENT,
                       "max_connections must be at least 1")
    db = Database(path, busy_timeout_s, synchronous_full, max_connections)
    db.run_read_only(lambda tx: tx.query("SELECT 1"))  # fail now, not on the first call
    return db
