"""StatusEndpoint: the initiator's answer to the coordinator's back-query.

Serves tcc.v1.InitiatorStatus.QueryStatus from the decision table
(decision.py): COMMITTED when the gid's local commit happened; otherwise it
fences the gid (records 'rolled_back' under the key the local commit would
use, so that commit now fails) and answers ROLLED_BACK. A malformed gid is
INVALID_ARGUMENT; a database that stays locked is UNAVAILABLE (the
coordinator retries; it never guesses).

Pass its "host:port" as begin(status_endpoint=...) and use the same Database
with InitiatorClient.commit_with_local_transaction. It owns the decision
table, so it also deletes old decision rows in the background (`pruning`;
the rule in decision.py: never below tccd's --retention_s).

Thread-safety: start once; port and shutdown from any thread; shutdown is
idempotent.
"""

import logging
from typing import Any, Optional

import grpc

from . import decision
from ._proto import initiator_pb2, initiator_pb2_grpc
from ._server_host import ServerHost
from .db import Database
from .errors import invalid_argument, to_tcc_error
from .pruning import Pruner, PruningOptions
from .tls import TlsFiles

_log = logging.getLogger("tcc_participant")


class _Servicer(initiator_pb2_grpc.InitiatorStatusServicer):
    def __init__(self, db: Database):
        self._db = db

    def QueryStatus(self, request: Any, context: grpc.ServicerContext) -> Any:
        try:
            answer = decision.fence_or_read_decision(self._db, request.gid)
        except Exception as error:
            failure = to_tcc_error(error, "QueryStatus")
            _log.warning("tcc status endpoint: QueryStatus(%s) failed: %s", request.gid,
                         failure.message)
            context.abort(failure.code, failure.message)
        value = (initiator_pb2.INITIATOR_DECISION_COMMITTED
                 if answer == decision.LocalDecision.COMMITTED
                 else initiator_pb2.INITIATOR_DECISION_ROLLED_BACK)
        return initiator_pb2.QueryStatusReply(decision=value)


class StatusEndpoint:
    """Serves QueryStatus from `db`'s decision table; see the module doc."""

    def __init__(self, db: Database, worker_threads: int = 2, max_queued_calls: int = 256,
                 pruning: Optional[PruningOptions] = None, tls: Optional[TlsFiles] = None):
        if db is None:
            raise invalid_argument("StatusEndpoint needs a database (open_sqlite_database)")
        self._db = db
        self._pruning = pruning or PruningOptions()
        self._pruner = Pruner("decision rows", self._pruning,
                              lambda cutoff_ms, limit: decision.prune_decision_batch(
                                  db, cutoff_ms, limit))
        self._host = ServerHost("status endpoint", worker_threads, max_queued_calls, tls)

    def start(self, address: str) -> int:
        """Creates the decision table, binds `address` (port 0 picks one),
        serves, starts the pruner; returns the port."""
        self._pruning.validate()
        decision.create_decision_table(self._db)
        servicer = _Servicer(self._db)
        port = self._host.start(
            address,
            lambda server: initiator_pb2_grpc.add_InitiatorStatusServicer_to_server(servicer,
                                                                                    server))
        self._pruner.start()
        return port

    @property
    def port(self) -> int:
        return self._host.port

    def prune_decisions_now(self) -> int:
        """One pruning pass now with the options' retention, batch and clock;
        the decision rows deleted (0 with retention 0)."""
        return decision.prune_decisions(self._db, self._pruning.clock(), self._pruning)

    def shutdown(self, grace_s: float = 5.0) -> None:
        """Stops the pruner and the server; idempotent."""
        self._pruner.stop()
        self._host.shutdown(grace_s)
