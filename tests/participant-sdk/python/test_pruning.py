"""Retention of barrier and decision rows (pruning.py): old barrier rows go
a whole branch at a time while a branch with a recent delivery keeps all its
rows, old decision rows go, batches, retention 0, bad options, and the
servers' background pruners on an injected clock.
"""

import time
import unittest

import grpc

import tcc_participant as tcc
from support import PointsService, TempDir, branch_request, open_test_db, query_value, wait_for

DAY_MS = 24 * 3600 * 1000


class PruningTest(unittest.TestCase):
    def setUp(self) -> None:
        self.dir = TempDir()
        self.db = open_test_db(self.dir.file("service.db"))
        tcc.create_barrier_table(self.db)
        tcc.create_decision_table(self.db)
        self.points = PointsService(self.db)
        self.points.setup("alice", 1000)
        self.now_ms = int(time.time() * 1000)

    def tearDown(self) -> None:
        self.db.close()
        self.dir.remove()

    def deliver(self, gid: str, *phases: str) -> None:
        run = {"try": (tcc.run_try, self.points.on_try),
               "confirm": (tcc.run_confirm, self.points.on_confirm),
               "cancel": (tcc.run_cancel, self.points.on_cancel)}
        for phase in phases:
            fn, handler = run[phase]
            fn(self.db, branch_request(gid, payload="alice:1"), handler)

    def age(self, table: str, where: str, days: float) -> None:
        self.db.run_in_transaction(lambda tx: tx.exec(
            f"UPDATE {table} SET created_unix_ms = ? WHERE {where}",
            (self.now_ms - int(days * DAY_MS),)))

    def barrier_count(self, gid: str) -> int:
        return query_value(self.db, "SELECT COUNT(*) FROM tcc_barrier WHERE gid = ?", (gid,))

    def decision_count(self) -> int:
        return query_value(self.db, "SELECT COUNT(*) FROM tcc_decision")

    def test_default_retention_is_tccds(self) -> None:
        self.assertEqual(tcc.PruningOptions().retention_s, 604800)
        self.assertEqual(tcc.DEFAULT_RETENTION_S, 604800)

    def test_old_branches_go_whole_and_recent_ones_stay_whole(self) -> None:
        self.deliver("old", "try", "confirm")
        self.deliver("mixed", "try", "confirm")
        self.deliver("young", "try")
        self.age("tcc_barrier", "gid = 'old'", 8)
        # A transaction longer than the retention: old Try, recent Confirm.
        self.age("tcc_barrier", "gid = 'mixed' AND op = 'try'", 8)
        self.age("tcc_barrier", "gid = 'young'", 6)
        self.assertEqual(tcc.prune_barrier(self.db, time.time()), 2)
        self.assertEqual([self.barrier_count(g) for g in ("old", "mixed", "young")], [0, 2, 1])

    def test_batches_continue_until_one_is_not_full(self) -> None:
        for i in range(7):
            self.deliver(f"g{i}", "try", "cancel")
        self.age("tcc_barrier", "1 = 1", 8)
        options = tcc.PruningOptions(batch=2)
        self.assertEqual(tcc.prune_barrier(self.db, time.time(), options), 14)
        self.assertEqual(query_value(self.db, "SELECT COUNT(*) FROM tcc_barrier"), 0)

    def test_retention_zero_keeps_everything(self) -> None:
        self.deliver("kept", "try")
        tcc.commit_locally(self.db, "kept", lambda tx: None)
        later = time.time() + 365 * 24 * 3600
        options = tcc.PruningOptions(retention_s=0)
        self.assertEqual(tcc.prune_barrier(self.db, later, options), 0)
        self.assertEqual(tcc.prune_decisions(self.db, later, options), 0)
        self.assertEqual((self.barrier_count("kept"), self.decision_count()), (1, 1))

    def test_old_decision_rows_go_by_age_alone(self) -> None:
        tcc.commit_locally(self.db, "d-committed", lambda tx: None)
        tcc.fence_or_read_decision(self.db, "d-fenced")
        tcc.commit_locally(self.db, "d-young", lambda tx: None)
        self.age("tcc_decision", "gid != 'd-young'", 8)
        self.assertEqual(tcc.prune_decisions(self.db, time.time(), tcc.PruningOptions(batch=1)), 2)
        self.assertEqual(query_value(self.db, "SELECT gid FROM tcc_decision"), "d-young")

    def test_bad_options_are_refused_with_a_reason(self) -> None:
        for options in (tcc.PruningOptions(retention_s=-1), tcc.PruningOptions(batch=0),
                        tcc.PruningOptions(interval_s=0)):
            with self.assertRaises(tcc.TccError) as bad:
                tcc.prune_barrier(self.db, time.time(), options)
            self.assertEqual(bad.exception.code, grpc.StatusCode.INVALID_ARGUMENT)

    def test_servers_prune_in_the_background(self) -> None:
        self.deliver("bg", "try", "confirm")
        tcc.commit_locally(self.db, "bg", lambda tx: None)
        passes = []
        options = tcc.PruningOptions(interval_s=0.05,
                                     clock=lambda: time.time() + 8 * 24 * 3600,
                                     on_pass=lambda rows, error: passes.append((rows, error)))
        server = tcc.ParticipantServer(self.db, pruning=options)
        self.points.register(server)
        endpoint = tcc.StatusEndpoint(self.db, pruning=options)
        server.start("127.0.0.1:0")
        endpoint.start("127.0.0.1:0")
        try:
            self.assertTrue(wait_for(lambda: self.barrier_count("bg") == 0, 5))
            self.assertTrue(wait_for(lambda: self.decision_count() == 0, 5))
            self.assertIn((2, None), passes)  # the barrier pass reported its rows
        finally:
            server.shutdown(0)
            endpoint.shutdown(0)
        # Now-passes are available too, and find nothing left.
        self.assertEqual((server.prune_barrier_now(), endpoint.prune_decisions_now()), (0, 0))


if __name__ == "__main__":
    unittest.main()
