"""The initiator's decision table and the two operations that race on it.

The local commit of a global transaction inserts (gid, 'committed') together
with the caller's writes, in one local transaction; the fence taken by a
back-query inserts (gid, 'rolled_back') when no decision row exists. Both
insert under the same unique key on gid with ON CONFLICT DO NOTHING, so the
database (not timing, not a lock in this process) decides which happened
first: a slow initiator can never commit locally after the coordinator was
told the transaction rolled back. Table tcc_decision is the C++ SDK's
(participant-sdk/src/decision.cc), column for column.

Pruning (prune_decisions; StatusEndpoint runs it in the background). A
decision row must be kept as long as the coordinator can still ask about its
gid: it back-queries only an unfinished transaction and deletes finished
ones after its retention (tccd --retention_s, 7 days by default), so the
retention here must be at least tccd's (the default is equal). Rows go by
age alone, 'committed' and 'rolled_back' alike. Pruned too early, a
committed gid asked about later would be fenced and answered ROLLED_BACK
although its local writes committed, a fenced gid's late local commit would
go through after the coordinator rolled back, and a retried
commit_with_local_transaction would run fn again. So don't.

Thread-safety: safe from many threads and processes on one database file.
"""

import enum
import time
from typing import Callable, Optional

import grpc

from .db import Database, LocalTx
from .errors import FencedError, TccError
from .ids import validate_gid
from .pruning import PruningOptions, run_prune_pass

_COMMITTED = "committed"
_ROLLED_BACK = "rolled_back"

_CREATE_TABLE = (
    "CREATE TABLE IF NOT EXISTS tcc_decision ("
    " gid TEXT NOT NULL PRIMARY KEY,"
    " decision TEXT NOT NULL,"
    " created_unix_ms BIGINT NOT NULL)")
_CREATE_AGE_INDEX = (
    "CREATE INDEX IF NOT EXISTS tcc_decision_by_age ON tcc_decision (created_unix_ms)")
_DELETE_OLDEST = (
    "DELETE FROM tcc_decision WHERE gid IN (SELECT gid FROM tcc_decision"
    " WHERE created_unix_ms < ? ORDER BY created_unix_ms LIMIT ?)")


class LocalCommit(enum.Enum):
    # fn ran, and its writes committed together with the decision row.
    COMMITTED = "committed"
    # An earlier call already committed this gid locally: fn did not run.
    ALREADY_COMMITTED = "already_committed"


class LocalDecision(enum.Enum):
    COMMITTED = "committed"
    ROLLED_BACK = "rolled_back"


def create_decision_table(db: Database) -> None:
    """Creates tcc_decision and its index by age if missing. Idempotent."""
    def create(tx: LocalTx) -> None:
        tx.exec(_CREATE_TABLE)
        tx.exec(_CREATE_AGE_INDEX)
    db.run_in_transaction(create)


def _insert_decision(tx: LocalTx, gid: str, decision: str) -> bool:
    tx.exec(_CREATE_TABLE)
    changed = tx.exec(
        "INSERT INTO tcc_decision (gid, decision, created_unix_ms) VALUES (?, ?, ?)"
        " ON CONFLICT DO NOTHING", (gid, decision, int(time.time() * 1000)))
    return changed == 1


def _read_decision(tx: LocalTx, gid: str) -> str:
    row = tx.query_one("SELECT decision FROM tcc_decision WHERE gid = ?", (gid,))
    if row is None:
        raise TccError(grpc.StatusCode.INTERNAL,
                       f"decision row of {gid} vanished inside its transaction")
    return row[0]


def _commit_in_tx(tx: LocalTx, gid: str, fn: Callable[[LocalTx], None]) -> LocalCommit:
    # The decision row goes first: a fenced gid fails before fn does any work.
    if not _insert_decision(tx, gid, _COMMITTED):
        if _read_decision(tx, gid) != _COMMITTED:
            raise FencedError(gid)
        return LocalCommit.ALREADY_COMMITTED
    fn(tx)
    return LocalCommit.COMMITTED


def commit_locally(db: Database, gid: str, fn: Callable[[LocalTx], None]) -> LocalCommit:
    """Runs fn(tx) and inserts (gid, 'committed') in one local transaction.

    Raises FencedError (FAILED_PRECONDITION) when the back-query fenced the
    gid first: everything rolls back. When fn raises, nothing is written and
    its exception propagates.
    """
    validate_gid(gid)
    return db.run_in_transaction(lambda tx: _commit_in_tx(tx, gid, fn))


def fence_or_read_decision(db: Database, gid: str) -> LocalDecision:
    """The back-query's answer: COMMITTED when the decision row says so;
    otherwise records (gid, 'rolled_back') if absent and answers ROLLED_BACK."""
    validate_gid(gid)

    def fence(tx: LocalTx) -> str:
        _insert_decision(tx, gid, _ROLLED_BACK)
        return _read_decision(tx, gid)
    decision = db.run_in_transaction(fence)
    return LocalDecision.COMMITTED if decision == _COMMITTED else LocalDecision.ROLLED_BACK


def prune_decision_batch(db: Database, cutoff_ms: int, limit: int) -> "tuple[int, bool]":
    """Deletes, in one local transaction, the oldest `limit` rows before cutoff_ms."""
    deleted = db.run_in_transaction(lambda tx: tx.exec(_DELETE_OLDEST, (cutoff_ms, limit)))
    return deleted, deleted == limit


def prune_decisions(db: Database, now_s: float, options: Optional[PruningOptions] = None) -> int:
    """Deletes the decision rows older than now_s - options.retention_s,
    oldest first, options.batch per local transaction; returns how many
    went. Retention 0 deletes nothing."""
    options = options or PruningOptions()
    options.validate()
    if options.retention_s == 0:
        return 0
    create_decision_table(db)
    return run_prune_pass(options, now_s,
                          lambda cutoff_ms, limit: prune_decision_batch(db, cutoff_ms, limit))
