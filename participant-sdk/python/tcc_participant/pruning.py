"""Retention of the library's own rows: barrier rows and decision rows.

Both tables would otherwise grow forever. A pruning pass deletes rows older
than a retention in small batches, one short local transaction each, so a
handler's write never waits long behind it; ParticipantServer and
StatusEndpoint run a pass every interval on a thread of their own (Pruner).
The table-specific batches live beside their tables (barrier.py,
decision.py). Same options and defaults as the C++ SDK
(participant-sdk/include/tcc/sdk/pruning.h).

The rule: the retention must be at least tccd's --retention_s (the
defaults are equal, 7 days). barrier.py and decision.py say why, and what
goes wrong otherwise.

Thread-safety: PruningOptions is a plain value; a Pruner's start and stop
may be called from any thread, stop is idempotent.
"""

import dataclasses
import logging
import math
import threading
import time
from typing import Callable, Optional

from .errors import TccError, invalid_argument

# tccd's default --retention_s (604800 s = 7 days).
DEFAULT_RETENTION_S = 7 * 24 * 3600.0

_log = logging.getLogger("tcc_participant")


@dataclasses.dataclass
class PruningOptions:
    """How long the library keeps its rows, and how it deletes them.

    retention_s: rows older than this go; 0 keeps everything. Never set it
        below tccd's --retention_s.
    interval_s: between two background passes (the first one is one interval
        after start); math.inf runs none (call prune_..._now yourself).
    batch: rows per local transaction, oldest first. Barrier rows take the
        other rows of their branch along (at most three), so a branch always
        goes whole.
    clock: "now" in seconds since the epoch for the age of rows (time.time
        by default; tests inject one).
    on_pass: called on the pruning thread after each background pass with
        (rows deleted, None) or (0, the TccError), e.g. for a metric.
    """

    retention_s: float = DEFAULT_RETENTION_S
    interval_s: float = 60.0
    batch: int = 500
    clock: Callable[[], float] = time.time
    on_pass: Optional[Callable[[int, Optional[TccError]], None]] = None

    def validate(self) -> None:
        """Raises TccError(INVALID_ARGUMENT) for options that make no sense."""
        if self.retention_s < 0:
            raise invalid_argument("pruning retention_s must be zero (keep everything) or more")
        if self.retention_s == 0:
            return
        if not self.interval_s > 0:
            raise invalid_argument("pruning interval_s must be positive (math.inf: no background)")
        if self.batch < 1:
            raise invalid_argument("pruning batch must be at least 1")


# batch(cutoff_ms, limit) -> (rows deleted, whether the batch was full).
BatchFn = Callable[[int, int], "tuple[int, bool]"]


def run_prune_pass(options: PruningOptions, now_s: float, batch: BatchFn,
                   stop: Callable[[], bool] = lambda: False) -> int:
    """Rows deleted by batches until one is not full or `stop` says so."""
    options.validate()
    if options.retention_s == 0:
        return 0
    cutoff_ms = int((now_s - options.retention_s) * 1000)
    rows = 0
    # Each batch is its own short transaction, so callers' writes interleave.
    while not stop():
        deleted, full = batch(cutoff_ms, options.batch)
        rows += deleted
        if not full:
            break
    return rows


class Pruner:
    """Runs a pruning pass every options.interval_s on a thread of its own."""

    def __init__(self, what: str, options: PruningOptions, batch: BatchFn):
        self._what = what  # names the rows in log lines ("barrier rows")
        self._options = options
        self._batch = batch
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def start(self) -> None:
        """Starts the thread, unless the retention is 0 or the interval infinite."""
        if self._options.retention_s == 0 or math.isinf(self._options.interval_s):
            return
        if self._thread is not None or self._stop.is_set():
            return
        self._thread = threading.Thread(target=self._loop, name=f"tcc-prune {self._what}",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """No batch starts after this; returns once the thread has ended."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _loop(self) -> None:
        while not self._stop.wait(self._options.interval_s):
            try:
                rows = run_prune_pass(self._options, self._options.clock(), self._batch,
                                      self._stop.is_set)
                error = None
            except TccError as failure:
                rows, error = 0, failure
                _log.warning("tcc: pruning %s failed (%s); trying again in %ss", self._what,
                             failure.message, self._options.interval_s)
            if rows:
                _log.debug("tcc: pruned %d %s", rows, self._what)
            if self._options.on_pass is not None:
                self._options.on_pass(rows, error)
