"""The participant barrier: Try, Confirm and Cancel made safe against
duplicate, concurrent and out-of-order delivery.

Each phase of each branch is recorded in table tcc_barrier of the
participant's own database, keyed PRIMARY KEY (gid, branch_id, op), in the
same local transaction as the handler's business writes. The table, its
columns and values are the C++ SDK's (participant-sdk/src/barrier.cc), so a
service can switch languages on the same file. Semantics, identical too:

- A duplicate delivery runs no handler and gets the first answer (including
  a refusal and its reason).
- Cancel with no Try before it succeeds without running the Cancel handler
  ("empty compensation") and takes the Try slot, so that a late Try is
  refused ("anti-hanging", reason CANCELLED_BEFORE_TRY_REASON).
- Concurrent duplicates are decided by the unique key (INSERT ... ON
  CONFLICT DO NOTHING, then the changed-row count), never by a lock in this
  process: it holds across threads, processes and restarts.
- A handler that raises rolls back its writes and the barrier row, so the
  coordinator's retry runs it again.
- A Try refusal discards the Try handler's writes (a savepoint) and is
  stored; a later Cancel of that branch is an empty compensation too.
- Confirm needs a successful Try on record. Without one (no Try row, a
  refused Try, or a Cancel already done) Confirm fails with
  FAILED_PRECONDITION and records nothing, so the branch stays retried and
  visible to the operator as stuck instead of confirmed empty. Cancel after
  a Confirm fails the same way.

Pruning (prune_barrier; ParticipantServer runs it in the background). The
rule: the coordinator sends nothing for a transaction once it is final and
the deadline of its last call has passed, and it deletes finished
transactions after its own retention (tccd --retention_s, 7 days by
default). A barrier row is therefore safe to delete once it is older than
the coordinator's retention plus the longest call deadline, so the
retention here must be at least tccd's --retention_s (the default is
equal). Rows go a whole branch at a time, once the branch's newest row is
older than the retention. A branch whose only row is its Try goes by age
alone too: the rule assumes a transaction ends within the retention of its
last delivery here. Pruned too early, a late duplicate Cancel would look
like an empty compensation and release nothing, a late Try after a pruned
Cancel would no longer be refused, and a late Confirm would fail with
FAILED_PRECONDITION. So don't.

Thread-safety: every function may be called from many threads, and from
many processes on the same database file, at once.
"""

import dataclasses
import time
from typing import Any, Callable, Optional

import grpc

from .db import Database, LocalTx
from .errors import TccError, failed_precondition
from .ids import validate_branch_id, validate_gid
from .pruning import PruningOptions, run_prune_pass

TRY, CONFIRM, CANCEL = "try", "confirm", "cancel"
_SUCCESS = "success"
_REFUSED = "refused"
# The Try slot taken by a Cancel that came first; read back as a refusal.
_CANCELLED_BEFORE_TRY = "cancelled_before_try"

# The reason stored for a Try refused because its Cancel came first.
CANCELLED_BEFORE_TRY_REASON = "branch was cancelled before its try arrived (anti-hanging)"

_CREATE_TABLE = (
    "CREATE TABLE IF NOT EXISTS tcc_barrier ("
    " gid TEXT NOT NULL,"
    " branch_id TEXT NOT NULL,"
    " op TEXT NOT NULL,"
    " outcome TEXT NOT NULL,"
    " reason TEXT NOT NULL,"
    " created_unix_ms BIGINT NOT NULL,"
    " PRIMARY KEY (gid, branch_id, op))")
_CREATE_AGE_INDEX = (
    "CREATE INDEX IF NOT EXISTS tcc_barrier_by_age ON tcc_barrier (created_unix_ms)")
# The oldest rows of branches whose every row is older than the cutoff: a
# branch with a recent delivery keeps all its rows.
_SELECT_PRUNABLE = (
    "SELECT b.gid, b.branch_id FROM tcc_barrier AS b"
    " WHERE b.created_unix_ms < ? AND NOT EXISTS ("
    " SELECT 1 FROM tcc_barrier AS y WHERE y.gid = b.gid AND y.branch_id = b.branch_id"
    " AND y.created_unix_ms >= ?)"
    " ORDER BY b.created_unix_ms LIMIT ?")


@dataclasses.dataclass(frozen=True)
class TryOutcome:
    """What a Try handler decided: reserved, or refused with a reason."""

    refused: bool = False
    reason: str = ""


def reserved() -> TryOutcome:
    """The resources are reserved: the branch may be confirmed."""
    return TryOutcome()


def refused(reason: str) -> TryOutcome:
    """A business refusal (e.g. not enough points): the transaction rolls back."""
    return TryOutcome(refused=True, reason=reason)


@dataclasses.dataclass(frozen=True)
class BarrierAnswer:
    """The answer to one delivery of one phase."""

    refused: bool = False
    reason: str = ""
    # Answered from a stored earlier result: no handler ran.
    duplicate: bool = False


# handler(tx, request): Try returns a TryOutcome; Confirm and Cancel return
# nothing. Any may raise (TccError for a chosen code) to fail retryably.
TryHandler = Callable[[LocalTx, Any], TryOutcome]
PhaseHandler = Callable[[LocalTx, Any], None]


def create_barrier_table(db: Database) -> None:
    """Creates tcc_barrier and its index by age if missing. Idempotent."""
    def create(tx: LocalTx) -> None:
        tx.exec(_CREATE_TABLE)
        tx.exec(_CREATE_AGE_INDEX)
    db.run_in_transaction(create)


def _branch_name(r: Any) -> str:
    return f"branch {r.gid}/{r.branch_id} (action {r.action})"


def _insert_slot(tx: LocalTx, r: Any, op: str, outcome: str, reason: str) -> bool:
    """Takes the slot; True when this delivery is the first (the key decides)."""
    changed = tx.exec(
        "INSERT INTO tcc_barrier (gid, branch_id, op, outcome, reason, created_unix_ms)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        (r.gid, r.branch_id, op, outcome, reason, int(time.time() * 1000)))
    return changed == 1


def _read_slot(tx: LocalTx, r: Any, op: str) -> Optional[BarrierAnswer]:
    row = tx.query_one(
        "SELECT outcome, reason FROM tcc_barrier WHERE gid = ? AND branch_id = ? AND op = ?",
        (r.gid, r.branch_id, op))
    if row is None:
        return None
    return BarrierAnswer(refused=row[0] != _SUCCESS, reason=row[1], duplicate=True)


def _read_taken_slot(tx: LocalTx, r: Any, op: str) -> BarrierAnswer:
    answer = _read_slot(tx, r, op)
    if answer is None:
        raise TccError(grpc.StatusCode.INTERNAL,
                       f"barrier row {r.gid}/{r.branch_id}/{op} vanished inside its transaction")
    return answer


def _try_first_delivery(tx: LocalTx, r: Any, handler: TryHandler) -> BarrierAnswer:
    # A savepoint, so that a refusal keeps the barrier row but none of the
    # handler's writes.
    tx.exec("SAVEPOINT tcc_try")
    outcome = handler(tx, r)
    if not isinstance(outcome, TryOutcome):
        raise TccError(
            grpc.StatusCode.INTERNAL,
            f"{_branch_name(r)}: the Try handler returned {outcome!r}; return "
            "tcc_participant.reserved() or tcc_participant.refused(reason)")
    if not outcome.refused:
        tx.exec("RELEASE SAVEPOINT tcc_try")
        return BarrierAnswer()
    tx.exec("ROLLBACK TO SAVEPOINT tcc_try")
    tx.exec("RELEASE SAVEPOINT tcc_try")
    tx.exec("UPDATE tcc_barrier SET outcome = ?, reason = ?"
            " WHERE gid = ? AND branch_id = ? AND op = ?",
            (_REFUSED, outcome.reason, r.gid, r.branch_id, TRY))
    return BarrierAnswer(refused=True, reason=outcome.reason)


def _try_in_tx(tx: LocalTx, r: Any, handler: TryHandler) -> BarrierAnswer:
    if not _insert_slot(tx, r, TRY, _SUCCESS, ""):
        return _read_taken_slot(tx, r, TRY)
    return _try_first_delivery(tx, r, handler)


def _tried_successfully(tx: LocalTx, r: Any) -> bool:
    tried = _read_slot(tx, r, TRY)
    return tried is not None and not tried.refused


def _reject_if_taken(tx: LocalTx, r: Any, op: str, why: str) -> None:
    if _read_slot(tx, r, op) is not None:
        raise failed_precondition(f"{_branch_name(r)}: {why}")


def _confirm_in_tx(tx: LocalTx, r: Any, handler: PhaseHandler) -> BarrierAnswer:
    if not _insert_slot(tx, r, CONFIRM, _SUCCESS, ""):
        return _read_taken_slot(tx, r, CONFIRM)
    _reject_if_taken(tx, r, CANCEL, "confirm after cancel")
    if not _tried_successfully(tx, r):
        # Raising rolls back the confirm row too: nothing is recorded, so the
        # branch stays retried (and stuck, for an operator), not confirmed empty.
        raise failed_precondition(f"{_branch_name(r)}: confirm without a successful try on record")
    handler(tx, r)
    return BarrierAnswer()


def _cancel_in_tx(tx: LocalTx, r: Any, handler: PhaseHandler) -> BarrierAnswer:
    if not _insert_slot(tx, r, CANCEL, _SUCCESS, ""):
        return _read_taken_slot(tx, r, CANCEL)
    _reject_if_taken(tx, r, CONFIRM, "cancel after confirm")
    # Taking the Try slot makes a late Try find a stored refusal.
    if _insert_slot(tx, r, TRY, _CANCELLED_BEFORE_TRY, CANCELLED_BEFORE_TRY_REASON):
        return BarrierAnswer()
    # A refused Try reserved nothing: empty compensation.
    if _tried_successfully(tx, r):
        handler(tx, r)
    return BarrierAnswer()


def _run_phase(db: Database, r: Any, handler: Optional[Callable], body: Callable) -> BarrierAnswer:
    validate_gid(r.gid)
    validate_branch_id(r.branch_id)
    if handler is None:
        raise failed_precondition(f"{_branch_name(r)}: no handler registered")
    return db.run_in_transaction(lambda tx: body(tx, r, handler))


def run_try(db: Database, request: Any, handler: TryHandler) -> BarrierAnswer:
    """One delivery of Try (request: a tcc.v1.BranchRequest) through the barrier."""
    return _run_phase(db, request, handler, _try_in_tx)


def run_confirm(db: Database, request: Any, handler: PhaseHandler) -> BarrierAnswer:
    """One delivery of Confirm through the barrier."""
    return _run_phase(db, request, handler, _confirm_in_tx)


def run_cancel(db: Database, request: Any, handler: PhaseHandler) -> BarrierAnswer:
    """One delivery of Cancel through the barrier."""
    return _run_phase(db, request, handler, _cancel_in_tx)


def prune_barrier_batch(db: Database, cutoff_ms: int, limit: int) -> "tuple[int, bool]":
    """Deletes, in one local transaction, the branches of the oldest `limit`
    rows written before cutoff_ms whose every row is that old."""
    def prune(tx: LocalTx) -> "tuple[int, bool]":
        rows = tx.query(_SELECT_PRUNABLE, (cutoff_ms, cutoff_ms, limit))
        deleted = 0
        for gid, branch_id in sorted(set(rows)):
            deleted += tx.exec("DELETE FROM tcc_barrier WHERE gid = ? AND branch_id = ?",
                               (gid, branch_id))
        return deleted, len(rows) == limit
    return db.run_in_transaction(prune)


def prune_barrier(db: Database, now_s: float, options: Optional[PruningOptions] = None) -> int:
    """Deletes the rows of every branch whose newest row is older than
    now_s - options.retention_s, oldest first, in local transactions of
    options.batch rows (plus the rest of their branches), and returns how
    many rows went. Retention 0 deletes nothing."""
    options = options or PruningOptions()
    options.validate()
    if options.retention_s == 0:
        return 0
    create_barrier_table(db)
    return run_prune_pass(options, now_s,
                          lambda cutoff_ms, limit: prune_barrier_batch(db, cutoff_ms, limit))


def saga_step_handlers(action: TryHandler, compensation: PhaseHandler) -> "tuple":
    """(on_try, on_confirm, on_cancel) for a saga step.

    The coordinator sends a saga step's action as Try and its compensation
    as Cancel, and never sends Confirm, so the barrier gives a saga the same
    guarantees. The action may return refused(reason) to make the saga
    compensate. Pass the result to ParticipantServer.add_action(name, *it).
    """
    def never_confirmed(tx: LocalTx, request: Any) -> None:
        raise failed_precondition(
            f"branch {request.branch_id} is a saga step; saga steps are never confirmed")
    return action, never_confirmed, compensation
