"""tcc_participant: join tcc-coordinator transactions from Python.

The Python counterpart of the C++ participant SDK (participant-sdk/), with
the same barrier and decision tables and semantics, on Debian's
python3-grpcio and python3-protobuf and Python's sqlite3:

- a participant: open_sqlite_database, ParticipantServer.add_action with
  Try / Confirm / Cancel handlers returning reserved() / refused(reason);
- an initiator: InitiatorClient (run_transaction, the idempotent path; begin, try_branches, commit, rollback, get,
  commit_with_local_transaction, submit_saga) and StatusEndpoint, which
  answers the coordinator's back-query;
- retention: PruningOptions (7 days by default, like tccd's --retention_s).

See participant-sdk/python/README.md.
"""

from ._proto import coordinator_pb2, initiator_pb2, participant_pb2
from .barrier import (CANCELLED_BEFORE_TRY_REASON, BarrierAnswer, TryOutcome,
                      create_barrier_table, prune_barrier, refused, reserved, run_cancel,
                      run_confirm, run_try, saga_step_handlers)
from .db import Database, LocalTx, open_sqlite_database
from .decision import (LocalCommit, LocalDecision, commit_locally, create_decision_table,
                       fence_or_read_decision, prune_decisions)
from .errors import FencedError, TccError
from .ids import new_gid
from .initiator_client import (InitiatorClient, LocalCommitResult, SagaOutcome,
                               TransactionGuard, TransactionOutcome, all_tries_succeeded,
                               branch, saga_step)
from .participant_server import ParticipantServer
from .pruning import DEFAULT_RETENTION_S, PruningOptions
from .status_endpoint import StatusEndpoint
from .tls import TlsFiles

__all__ = [
    "BarrierAnswer", "CANCELLED_BEFORE_TRY_REASON", "DEFAULT_RETENTION_S", "Database",
    "FencedError", "InitiatorClient", "LocalCommit", "LocalCommitResult", "LocalDecision",
    "LocalTx", "ParticipantServer", "PruningOptions", "SagaOutcome", "StatusEndpoint",
    "TccError", "TlsFiles", "TransactionGuard", "TransactionOutcome", "TryOutcome",
    "all_tries_succeeded", "branch",
    "commit_locally", "coordinator_pb2", "create_barrier_table", "create_decision_table",
    "fence_or_read_decision", "initiator_pb2", "new_gid", "open_sqlite_database",
    "participant_pb2", "prune_barrier", "prune_decisions", "refused", "reserved",
    "run_cancel", "run_confirm", "run_try", "saga_step", "saga_step_handlers",
]
