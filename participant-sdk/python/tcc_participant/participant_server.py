"""ParticipantServer: makes a Python service a TCC participant.

Register named actions (e.g. "points.freeze"), each with Try / Confirm /
Cancel handlers, then start: the server serves tcc.v1.Participant over gRPC
and runs every call through the barrier (barrier.py), in one local
transaction of your SQLite database together with the handler's writes.

    db = tcc_participant.open_sqlite_database("points.db")
    server = tcc_participant.ParticipantServer(db)
    server.add_action("points.freeze", on_try=freeze, on_confirm=deduct,
                      on_cancel=unfreeze)
    port = server.start("127.0.0.1:50061")

Answers on the wire, as the C++ SDK's: handler success -> OUTCOME_SUCCESS; a
Try refusal -> OUTCOME_REFUSED with its reason; a handler that raises
TccError -> that code and message; any other exception -> INTERNAL (rolled
back; the process survives); SQLite busy/locked -> UNAVAILABLE; an unknown
action -> UNIMPLEMENTED naming the ones served; a malformed gid or branch id
-> INVALID_ARGUMENT; all workers busy and the queue full ->
RESOURCE_EXHAUSTED.

Retention: the server also deletes old barrier rows in the background
(`pruning`, a PruningOptions; the rule in barrier.py: never below tccd's
--retention_s).

Threading: handlers run on `worker_threads` threads at once and must share
state only through the database or their own locks. add_action before
start, from one thread; the rest from any thread; shutdown is idempotent.
"""

import dataclasses
import logging
from typing import Any, Callable, Dict, Optional

import grpc

from . import barrier
from ._proto import participant_pb2, participant_pb2_grpc
from ._server_host import ServerHost
from .db import Database
from .errors import TccError, failed_precondition, invalid_argument, to_tcc_error
from .ids import validate_branch_id, validate_gid
from .pruning import Pruner, PruningOptions
from .tls import TlsFiles

_log = logging.getLogger("tcc_participant")


@dataclasses.dataclass(frozen=True)
class Action:
    """The three handlers of one action; each writes only through its tx."""

    on_try: barrier.TryHandler
    on_confirm: barrier.PhaseHandler
    on_cancel: barrier.PhaseHandler


_PHASES = {
    "Try": (barrier.run_try, lambda a: a.on_try),
    "Confirm": (barrier.run_confirm, lambda a: a.on_confirm),
    "Cancel": (barrier.run_cancel, lambda a: a.on_cancel),
}


class _Servicer(participant_pb2_grpc.ParticipantServicer):
    def __init__(self, db: Database, actions: Dict[str, Action]):
        self._db = db
        self._actions = actions

    def Try(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._answer("Try", request, context)

    def Confirm(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._answer("Confirm", request, context)

    def Cancel(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._answer("Cancel", request, context)

    def _lookup(self, request: Any) -> Action:
        validate_gid(request.gid)
        validate_branch_id(request.branch_id)
        action = self._actions.get(request.action)
        if action is None:
            served = ", ".join(sorted(self._actions))
            raise TccError(grpc.StatusCode.UNIMPLEMENTED,
                           f'unknown action "{request.action}"; this participant serves: {served}')
        return action

    def _answer(self, phase: str, request: Any, context: grpc.ServicerContext) -> Any:
        run, handler_of = _PHASES[phase]
        try:
            action = self._lookup(request)
            answer = run(self._db, request, handler_of(action))
        except Exception as error:  # a handler must not take the worker down
            failure = to_tcc_error(error, f"{phase} handler of {request.action}")
            _log.warning("tcc participant: %s %s %s/%s failed: %s", phase, request.action,
                         request.gid, request.branch_id, failure.message)
            context.abort(failure.code, failure.message)
        outcome = participant_pb2.OUTCOME_REFUSED if answer.refused else \
            participant_pb2.OUTCOME_SUCCESS
        return participant_pb2.BranchReply(outcome=outcome, reason=answer.reason)


class ParticipantServer:
    """Serves tcc.v1.Participant for the registered actions; see the module doc."""

    def __init__(self, db: Database, worker_threads: int = 4, max_queued_calls: int = 256,
                 pruning: Optional[PruningOptions] = None, tls: Optional[TlsFiles] = None):
        if db is None:
            raise invalid_argument("ParticipantServer needs a database (open_sqlite_database)")
        self._db = db
        self._actions: Dict[str, Action] = {}
        self._pruning = pruning or PruningOptions()
        self._pruner = Pruner("barrier rows", self._pruning,
                              lambda cutoff_ms, limit: barrier.prune_barrier_batch(
                                  db, cutoff_ms, limit))
        self._host = ServerHost("participant server", worker_threads, max_queued_calls, tls)

    def add_action(self, name: str, on_try: barrier.TryHandler,
                   on_confirm: barrier.PhaseHandler, on_cancel: barrier.PhaseHandler) -> None:
        """Registers one action. INVALID_ARGUMENT for an empty name or a
        missing handler, ALREADY_EXISTS for a name registered twice,
        FAILED_PRECONDITION after start."""
        if not name:
            raise invalid_argument("action name is empty")
        handlers: Dict[str, Optional[Callable]] = {
            "on_try": on_try, "on_confirm": on_confirm, "on_cancel": on_cancel}
        missing = [k for k, h in handlers.items() if not callable(h)]
        if missing:
            raise invalid_argument(f"action {name} needs all three handlers (on_try, on_confirm,"
                                   f" on_cancel); not callable: {', '.join(missing)}")
        if self._host.started:
            raise failed_precondition("add_action after start: register every action first")
        if name in self._actions:
            raise TccError(grpc.StatusCode.ALREADY_EXISTS, f"action {name} is already registered")
        self._actions[name] = Action(on_try, on_confirm, on_cancel)

    def start(self, address: str) -> int:
        """Creates the barrier table, binds `address` ("host:port"; port 0
        picks a free one), serves, starts the pruner; returns the port."""
        if not self._actions:
            raise failed_precondition("no action registered: call add_action before start")
        self._pruning.validate()
        barrier.create_barrier_table(self._db)
        servicer = _Servicer(self._db, dict(self._actions))
        port = self._host.start(
            address,
            lambda server: participant_pb2_grpc.add_ParticipantServicer_to_server(servicer, server))
        _log.info("tcc participant serving %d action(s) on port %d", len(self._actions), port)
        self._pruner.start()
        return port

    @property
    def port(self) -> int:
        """The bound port, once started (0 before)."""
        return self._host.port

    def prune_barrier_now(self) -> int:
        """One pruning pass now with the options' retention, batch and clock;
        the barrier rows deleted (0 with retention 0)."""
        return barrier.prune_barrier(self._db, self._pruning.clock(), self._pruning)

    def shutdown(self, grace_s: float = 5.0) -> None:
        """Stops the pruner, stops accepting calls, lets calls in flight
        finish (up to grace_s). Idempotent."""
        self._pruner.stop()
        self._host.shutdown(grace_s)

    def wait(self) -> None:
        """Blocks until shutdown is called from another thread."""
        self._host.wait()
