"""InitiatorClient: what the service that starts a global transaction (GT)
uses to talk to the coordinator (tcc.v1.Coordinator): run_transaction (the
easy path: one request run idempotently by its gid, a repeat replays the
first answer); begin, begin_and_try (Begin folded into the first Try),
try_branches, commit, rollback, get;
commit_with_local_transaction for an initiator with
writes of its own (the fenced local commit, see decision.py); a
TransactionGuard that rolls back a GT left undecided; and submit_saga.

Every call blocks, has a per-attempt deadline, and is retried with
exponential backoff and jitter on UNAVAILABLE and DEADLINE_EXCEEDED, up to
max_attempts. That is safe because the coordinator is idempotent by gid and
branch id: begin and submit_saga always send a gid (one is generated when
you give none), and try_branches is retried only when every branch names its
branch_id. Errors raise TccError with the coordinator's code and message.
The same behaviour as the C++ SDK's InitiatorClient.

Thread-safety: a client may be shared by threads; a TransactionGuard belongs
to one thread at a time.
"""

import dataclasses
import logging
import random
import time
from typing import Any, Callable, Dict, Iterable, List, Optional

import grpc

from . import decision
from ._proto import coordinator_pb2, coordinator_pb2_grpc
from .db import Database, LocalTx
from .errors import TccError, failed_precondition, invalid_argument
from .ids import new_gid, validate_gid
from .tls import TlsFiles, channel_credentials

_log = logging.getLogger("tcc_participant")
_TRANSIENT = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
_MAX_TIMEOUT_S = 30 * 24 * 3600
_MAX_SAGA_WAIT_S = 24 * 3600



def _bytes(value: Any) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode()


def branch(target: str, action: str, payload: Any = b"", branch_id: str = "",
           headers: Optional[Dict[str, Any]] = None) -> Any:
    """A tcc.v1.BranchSpec for try_branches (str or bytes accepted). Name
    your branches (branch_id) so that a Try can be retried safely."""
    return coordinator_pb2.BranchSpec(
        branch_id=_bytes(branch_id), target=_bytes(target), action=_bytes(action),
        payload=_bytes(payload), headers={k: _bytes(v) for k, v in (headers or {}).items()})


def saga_step(target: str, action: str, payload: Any = b"", step_id: str = "",
              headers: Optional[Dict[str, Any]] = None, depends_on: Iterable[str] = (),
              max_attempts: int = 0, timeout_ms: int = 0) -> Any:
    """A tcc.v1.SagaStep for submit_saga (str or bytes accepted)."""
    return coordinator_pb2.SagaStep(
        step_id=_bytes(step_id), target=_bytes(target), action=_bytes(action),
        payload=_bytes(payload), headers={k: _bytes(v) for k, v in (headers or {}).items()},
        depends_on=[_bytes(d) for d in depends_on], max_attempts=max_attempts,
        timeout_ms=timeout_ms)


def all_tries_succeeded(reply: Any) -> bool:
    """True when every branch result of a TryReply is TRY_RESULT_SUCCEEDED."""
    return all(r.result == coordinator_pb2.TRY_RESULT_SUCCEEDED for r in reply.results)


@dataclasses.dataclass
class LocalCommitResult:
    # ALREADY_COMMITTED: an earlier call had committed this gid locally; fn
    # did not run again, and Commit was re-sent.
    local: decision.LocalCommit
    # The GT's state after Commit (COMMITTING or COMMITTED).
    state: int


@dataclasses.dataclass
class SagaOutcome:
    """What became of a saga, as far as the coordinator knows."""

    gid: str
    created: bool
    # RUNNING or COMPENSATING until final: COMMITTED or ROLLED_BACK.
    state: int
    reason: str = ""
    # The step whose action was refused, and the participant's reason.
    refused_step: str = ""
    refusal: str = ""

    @property
    def final(self) -> bool:
        return self.state in (coordinator_pb2.TRANSACTION_STATE_COMMITTED,
                              coordinator_pb2.TRANSACTION_STATE_ROLLED_BACK)


@dataclasses.dataclass
class TransactionOutcome:
    """What became of a TCC transaction: run_transaction's answer, the first
    time and every time after."""

    gid: str
    # True when an earlier run had decided the GT: nothing was tried now.
    replayed: bool
    # COMMITTING or COMMITTED, or ROLLING_BACK or ROLLED_BACK.
    state: int
    # The branch whose Try was refused, and the participant's reason.
    refused_branch: str = ""
    refusal: str = ""
    # The coordinator's decision reason, e.g. "rolled back by the initiator".
    reason: str = ""

    @property
    def committed(self) -> bool:
        return self.state in (coordinator_pb2.TRANSACTION_STATE_COMMITTING,
                              coordinator_pb2.TRANSACTION_STATE_COMMITTED)


_DECIDED = (coordinator_pb2.TRANSACTION_STATE_COMMITTING,
            coordinator_pb2.TRANSACTION_STATE_COMMITTED,
            coordinator_pb2.TRANSACTION_STATE_ROLLING_BACK,
            coordinator_pb2.TRANSACTION_STATE_ROLLED_BACK)


def _outcome_of(gt: Any) -> TransactionOutcome:
    """A decided GT's outcome; UNAVAILABLE while it is undecided."""
    if gt.state not in _DECIDED:
        state = coordinator_pb2.TransactionState.Name(gt.state).replace("TRANSACTION_STATE_", "")
        raise TccError(grpc.StatusCode.UNAVAILABLE,
                       f"transaction {gt.gid} is still {state} (a participant did not answer, "
                       "or another delivery of this request is running); repeat the request "
                       "with the same gid, or the coordinator's timeout resolves it")
    outcome = TransactionOutcome(gid=gt.gid, replayed=True, state=gt.state,
                                 reason=gt.decision_reason)
    if outcome.committed:
        return outcome
    # TRY_REFUSED until its Cancel; then CANCELLED, the refusal kept as last_error.
    refused = [b for b in gt.branches if b.state == coordinator_pb2.BRANCH_STATE_TRY_REFUSED]
    refused += [b for b in gt.branches
                if b.state == coordinator_pb2.BRANCH_STATE_CANCELLED and b.last_error]
    if refused:
        outcome.refused_branch, outcome.refusal = refused[0].branch_id, refused[0].last_error
    return outcome


def _check_request(gid: str, branches: List[Any], local_db: Optional[Database],
                   local_writes: Optional[Callable], status_endpoint: str) -> None:
    if not gid:
        raise invalid_argument("run_transaction needs a gid: it is the request's idempotency "
                               "key (e.g. derived from your client's request id)")
    validate_gid(gid)
    if not branches:
        raise invalid_argument("run_transaction needs at least one branch")
    if not all(b.branch_id for b in branches):
        raise invalid_argument("every branch of run_transaction needs a branch_id, so that a "
                               "repeated request re-drives the same branches")
    if local_writes is not None and (local_db is None or not status_endpoint):
        raise invalid_argument("local_writes needs local_db and status_endpoint (the "
                               "StatusEndpoint serving local_db)")


def _begin_request(gid: str, timeout_s: float, status_endpoint: str) -> Any:
    validate_gid(gid)
    if not 0 <= timeout_s <= _MAX_TIMEOUT_S:
        raise invalid_argument("timeout_s must be between 0 and 30 days")
    return coordinator_pb2.BeginRequest(gid=gid.encode(), timeout_ms=int(timeout_s * 1000),
                                        status_endpoint=status_endpoint.encode())


def _compensates(state: int) -> bool:
    return state in (coordinator_pb2.TRANSACTION_STATE_COMPENSATING,
                     coordinator_pb2.TRANSACTION_STATE_ROLLED_BACK)


def _check_committable(gt: Any) -> None:
    """What commit_with_local_transaction needs before it commits locally."""
    if gt.state in (coordinator_pb2.TRANSACTION_STATE_COMMITTING,
                    coordinator_pb2.TRANSACTION_STATE_COMMITTED):
        return  # a repeated call: the decision stands
    state = coordinator_pb2.TransactionState.Name(gt.state)
    if gt.state != coordinator_pb2.TRANSACTION_STATE_TRYING:
        raise failed_precondition(f"transaction {gt.gid} is {state}; it can no longer commit")
    if not gt.status_endpoint:
        raise failed_precondition(
            f"transaction {gt.gid} has no status endpoint: a local commit could not be fenced "
            "against the coordinator's timeout rollback; begin it with status_endpoint")
    for b in gt.branches:
        if b.state != coordinator_pb2.BRANCH_STATE_TRIED:
            name = coordinator_pb2.BranchState.Name(b.state)
            raise failed_precondition(f"transaction {gt.gid}: branch {b.branch_id} is {name}, "
                                      "not TRIED; roll back instead")


class InitiatorClient:
    """A blocking, retrying client of tcc.v1.Coordinator; see the module doc."""

    def __init__(self, target: str, call_timeout_s: float = 10.0, max_attempts: int = 4,
                 initial_backoff_s: float = 0.05, max_backoff_s: float = 2.0,
                 channel: Optional[grpc.Channel] = None, tls: Optional[TlsFiles] = None,
                 token: str = ""):
        """`tls`: TLS (and, with cert_file, mutual TLS) to the coordinator;
        `token`: a bearer token for a coordinator that checks callers (tccd
        --auth_file), sent as `authorization: Bearer <token>` on every call."""
        if max_attempts < 1:
            raise invalid_argument("max_attempts must be at least 1")
        if channel is None:
            channel = (grpc.secure_channel(target, channel_credentials(tls)) if tls
                       else grpc.insecure_channel(target))
        self._channel = channel
        self._metadata = (("authorization", f"Bearer {token}"),) if token else None
        self._stub = coordinator_pb2_grpc.CoordinatorStub(self._channel)
        self._call_timeout_s = call_timeout_s
        self._max_attempts = max_attempts
        self._initial_backoff_s = initial_backoff_s
        self._max_backoff_s = max_backoff_s

    def close(self) -> None:
        self._channel.close()

    def begin(self, gid: str = "", timeout_s: float = 0, status_endpoint: str = "") -> Any:
        """Starts a GT (or finds it: the gid is the idempotency key); a BeginReply.
        timeout_s: how long it may stay TRYING (0: the coordinator's default).
        status_endpoint: "host:port" of your StatusEndpoint, for the back-query."""
        gid = gid or new_gid()  # chosen here, so a retried Begin finds the same GT
        request = _begin_request(gid, timeout_s, status_endpoint)
        return self._call("Begin", self._stub.Begin, request)

    def begin_and_try(self, gid: str, branches: List[Any], timeout_s: float = 0,
                      status_endpoint: str = "") -> Any:
        """Begin folded into the first Try (TryRequest.begin); a TryReply. An
        unknown gid is created with these parameters and its branches in one
        durable write: one call and one write less than begin then
        try_branches. A known gid is tried as try_branches tries it
        (ALREADY_EXISTS when begun with other parameters, FAILED_PRECONDITION
        once decided). A coordinator older than the field answers NOT_FOUND;
        then this sends begin and try_branches."""
        if not gid:
            raise invalid_argument("begin_and_try needs a gid (it is the request's idempotency "
                                   "key)")
        begin = _begin_request(gid, timeout_s, status_endpoint)
        if not branches:
            raise invalid_argument("try_branches needs at least one branch")
        request = coordinator_pb2.TryRequest(gid=gid.encode(), branches=branches, begin=begin)
        try:
            return self._call("Try", self._stub.Try, request,
                              retryable=all(b.branch_id for b in branches))
        except TccError as error:
            if error.code != grpc.StatusCode.NOT_FOUND:
                raise
        # A coordinator older than TryRequest.begin ignored it: begin, then Try.
        self.begin(gid, timeout_s, status_endpoint)
        return self.try_branches(gid, branches)

    def begin_guarded(self, gid: str = "", timeout_s: float = 0,
                      status_endpoint: str = "") -> "TransactionGuard":
        """begin, and a guard (a context manager) that rolls the GT back
        unless it gets decided. guard.created and guard.state tell whether
        begin created the GT and the state it found; a GT already decided
        (a repeated request) counts as decided: the guard leaves it alone."""
        reply = self.begin(gid, timeout_s, status_endpoint)
        return TransactionGuard(self, reply.gid, created=reply.created, state=reply.state)

    def run_transaction(self, gid: str, branches: List[Any], timeout_s: float = 0,
                        status_endpoint: str = "", local_db: Optional[Database] = None,
                        local_writes: Optional[Callable[[LocalTx], None]] = None
                        ) -> TransactionOutcome:
        """Runs one request idempotently by gid (your request id), like the
        C++ InitiatorClient::RunTransaction: begin_and_try (one call); a GT
        decided already (an earlier run) answers its outcome with
        replayed=True; otherwise every branch is tried (each needs a
        branch_id; a GT still TRYING is continued); roll back on a refusal, or commit (with local_writes:
        commit_with_local_transaction). A repeat after COMMITTED answers
        committed again without trying; after a refusal, the same
        refused_branch and refusal. Raises TccError INVALID_ARGUMENT for a
        malformed request, UNAVAILABLE "... is still TRYING ..." when a Try's
        outcome is unknown (repeat the request), local_writes' own exception
        (after rolling back), or the coordinator's errors."""
        _check_request(gid, branches, local_db, local_writes, status_endpoint)
        try:
            tried = self.begin_and_try(gid, branches, timeout_s, status_endpoint)
        except TccError as error:
            if error.code != grpc.StatusCode.FAILED_PRECONDITION:
                raise
            # An earlier run of this request, or a concurrent duplicate, decided it.
            return self.outcome(gid)
        if any(r.result == coordinator_pb2.TRY_RESULT_REFUSED for r in tried.results):
            return self._roll_back_and_resolve(gid)
        if not all_tries_succeeded(tried):
            return self.outcome(gid)  # raises UNAVAILABLE: still TRYING
        if local_writes is None:
            return self._commit_and_resolve(gid)
        return self._commit_locally_and_resolve(gid, local_db, local_writes, tried.committable)

    def outcome(self, gid: str) -> TransactionOutcome:
        """The outcome of a decided GT (replayed=True); TccError UNAVAILABLE
        while it is undecided, NOT_FOUND for an unknown gid."""
        return _outcome_of(self.get(gid))

    def _roll_back_and_resolve(self, gid: str) -> TransactionOutcome:
        replayed = False
        try:
            self.rollback(gid)
        except TccError as error:
            if error.code != grpc.StatusCode.FAILED_PRECONDITION:
                raise
            replayed = True  # a duplicate decided first
        return dataclasses.replace(self.outcome(gid), replayed=replayed)

    def _commit_and_resolve(self, gid: str) -> TransactionOutcome:
        try:
            state = self.commit(gid)
        except TccError as error:
            if error.code != grpc.StatusCode.FAILED_PRECONDITION:
                raise
            return self.outcome(gid)
        return TransactionOutcome(gid=gid, replayed=False, state=state)

    def _commit_locally_and_resolve(self, gid: str, db: Database, fn: Callable[[LocalTx], None],
                                    committable: bool) -> TransactionOutcome:
        failed: List[BaseException] = []

        def writes(tx: LocalTx) -> None:
            try:
                fn(tx)
            except BaseException as error:
                failed.append(error)
                raise

        committed = [False]
        try:
            result = self._commit_locally_then_commit(db, gid, writes, committed, committable)
        except Exception as error:
            if failed:
                # Our own writes said no: nothing was written; undo the branches.
                self._roll_back_and_resolve(gid)
                raise failed[0]
            if (isinstance(error, TccError) and not committed[0]
                    and error.code == grpc.StatusCode.FAILED_PRECONDITION):
                return self.outcome(gid)  # a duplicate decided, or the back-query fenced it
            raise
        return TransactionOutcome(gid=gid, state=result.state,
                                  replayed=result.local == decision.LocalCommit.ALREADY_COMMITTED)

    def try_branches(self, gid: str, branches: List[Any]) -> Any:
        """Registers the branches (see branch()) and tries them; a TryReply."""
        validate_gid(gid)
        if not branches:
            raise invalid_argument("try_branches needs at least one branch")
        retryable = all(b.branch_id for b in branches)
        request = coordinator_pb2.TryRequest(gid=gid.encode(), branches=branches)
        return self._call("Try", self._stub.Try, request, retryable=retryable)

    def commit(self, gid: str) -> int:
        """Decides commit; the GT's state (COMMITTING or COMMITTED)."""
        validate_gid(gid)
        request = coordinator_pb2.DecideRequest(gid=gid.encode())
        return self._call("Commit", self._stub.Commit, request).state

    def rollback(self, gid: str) -> int:
        """Decides rollback; the GT's state (ROLLING_BACK or ROLLED_BACK)."""
        validate_gid(gid)
        request = coordinator_pb2.DecideRequest(gid=gid.encode())
        return self._call("Rollback", self._stub.Rollback, request).state

    def get(self, gid: str) -> Any:
        """The durable state of a GT and its branches (a tcc.v1.Transaction)."""
        validate_gid(gid)
        request = coordinator_pb2.GetTransactionRequest(gid=gid.encode())
        return self._call("GetTransaction", self._stub.GetTransaction, request)

    def commit_with_local_transaction(self, db: Database, gid: str,
                                      fn: Callable[[LocalTx], None],
                                      tried: Any = None) -> LocalCommitResult:
        """For an initiator with local writes: checks (get) that the GT is
        TRYING with every branch TRIED and has a status endpoint; runs fn(tx)
        and inserts (gid, 'committed') in ONE local transaction of `db`
        (commit_locally); then sends Commit. Raises FencedError when the
        status endpoint fenced the gid first (nothing written). Calling it
        again for the same gid is safe: fn does not run twice. `tried`: the
        TryReply of the Try that named every branch; when it says
        committable (tccd checked the same as its results became durable),
        the get is skipped."""
        committed = [False]
        committable = bool(getattr(tried, "committable", False))
        return self._commit_locally_then_commit(db, gid, fn, committed, committable)

    def _commit_locally_then_commit(self, db: Database, gid: str, fn: Callable[[LocalTx], None],
                                    committed: List[bool],
                                    committable: bool = False) -> LocalCommitResult:
        if not committable:
            _check_committable(self.get(gid))
        local = decision.commit_locally(db, gid, fn)
        committed[0] = True
        try:
            state = self.commit(gid)
        except TccError as error:
            raise TccError(error.code, f"committed locally, but {error.message}; call again to "
                           "re-send Commit (the status endpoint also tells the coordinator)")
        return LocalCommitResult(local=local, state=state)

    def submit_saga(self, steps: List[Any], gid: str = "", concurrent: bool = False,
                    wait_for_result_s: float = 0) -> SagaOutcome:
        """Submits a saga (steps: see saga_step()) and, with
        wait_for_result_s > 0, waits up to that long for its outcome. When it
        compensates, reads it back once to name the refusing step."""
        gid = gid or new_gid()  # so a retried submit does not start a second saga
        validate_gid(gid)
        if not steps:
            raise invalid_argument("a saga needs at least one step")
        if not 0 <= wait_for_result_s <= _MAX_SAGA_WAIT_S:
            raise invalid_argument("wait_for_result_s must be between 0 and 24 h")
        request = coordinator_pb2.SubmitSagaRequest(gid=gid.encode(), steps=steps,
                                                    concurrent=concurrent)
        if wait_for_result_s > 0:
            request.wait_for_result = True
            # 0 would mean the coordinator's default (30 s), not "at once".
            request.wait_timeout_ms = max(1, int(wait_for_result_s * 1000))
        reply = self._call("SubmitSaga", self._stub.SubmitSaga, request,
                           extra_wait_s=wait_for_result_s)
        outcome = SagaOutcome(gid=reply.gid, created=reply.created, state=reply.state,
                              reason=reply.reason)
        if _compensates(reply.state):
            later = self.get_saga(reply.gid)
            outcome = dataclasses.replace(later, created=reply.created)
        return outcome

    def get_saga(self, gid: str) -> SagaOutcome:
        """A saga's outcome now; FAILED_PRECONDITION for a TCC gid."""
        saga = self.get(gid)
        if saga.mode != "SAGA":
            raise failed_precondition(f"transaction {saga.gid} is not a saga (mode {saga.mode})")
        outcome = SagaOutcome(gid=saga.gid, created=False, state=saga.state)
        if _compensates(saga.state):
            outcome.reason = saga.decision_reason
            for step in saga.branches:
                if step.state == coordinator_pb2.BRANCH_STATE_TRY_REFUSED:
                    outcome.refused_step, outcome.refusal = step.branch_id, step.last_error
                    break
        return outcome

    def _call(self, method: str, rpc: Callable, request: Any, retryable: bool = True,
              extra_wait_s: float = 0) -> Any:
        backoff = self._initial_backoff_s
        attempt = 1
        while True:
            try:
                return rpc(request, timeout=self._call_timeout_s + extra_wait_s,
                           metadata=self._metadata)
            except grpc.RpcError as error:
                code = error.code()
                if not retryable or code not in _TRANSIENT or attempt >= self._max_attempts:
                    raise TccError(code, f"coordinator {method} ({attempt} attempt(s)): "
                                   f"{error.details()}") from None
            # Uniform in [backoff/2, backoff]: spreads the retries of many clients.
            time.sleep(backoff * random.uniform(0.5, 1.0))
            backoff = min(backoff * 2, self._max_backoff_s)
            attempt += 1


class TransactionGuard:
    """Owns the decision of one GT: leaving a `with` block (or calling
    close()) without commit, rollback, a local commit or release sends
    Rollback (retried; logged if it fails: the coordinator's timeout then
    resolves the GT). A failed commit leaves it undecided, so it rolls back;
    a local commit that succeeded never does, even if Commit failed after."""

    def __init__(self, client: InitiatorClient, gid: str, created: bool = True,
                 state: int = coordinator_pb2.TRANSACTION_STATE_TRYING):
        self._client = client
        self.gid = gid
        # Whether begin created the GT (False: the gid existed, e.g. a
        # repeated request), and the state begin found it in.
        self.created = created
        self.state = state
        # A repeated request finds its GT decided: nothing for us to decide.
        self.decided = state != coordinator_pb2.TRANSACTION_STATE_TRYING

    def __enter__(self) -> "TransactionGuard":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def close(self) -> None:
        """Rolls the GT back unless it was decided; idempotent."""
        if self.decided:
            return
        self.decided = True
        try:
            self._client.rollback(self.gid)
        except TccError as error:
            if error.code == grpc.StatusCode.FAILED_PRECONDITION:
                # Decided by someone else meanwhile (a duplicate committed it).
                _log.info("tcc: transaction %s was not rolled back: %s", self.gid,
                          error.message)
                return
            _log.warning("tcc: rollback of undecided transaction %s failed (%s); the "
                         "coordinator's timeout will resolve it", self.gid, error.message)

    def try_branches(self, branches: List[Any]) -> Any:
        return self._client.try_branches(self.gid, branches)

    def commit(self) -> int:
        state = self._client.commit(self.gid)
        self.decided = True
        return state

    def rollback(self) -> int:
        state = self._client.rollback(self.gid)
        self.decided = True
        return state

    def commit_with_local_transaction(self, db: Database,
                                      fn: Callable[[LocalTx], None]) -> LocalCommitResult:
        committed = [False]
        try:
            return self._client._commit_locally_then_commit(db, self.gid, fn, committed)
        finally:
            # Once committed locally, a rollback would contradict the local writes.
            if committed[0]:
                self.decided = True

    def release(self) -> None:
        """Leaves the GT to the coordinator (timeout, back-query); no rollback."""
        self.decided = True
