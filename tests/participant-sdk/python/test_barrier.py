"""The barrier on a real SQLite file, without gRPC: every row of the
barrier table (participant-sdk/README.md "What the barrier guarantees"),
the handler's writes committed or discarded with the barrier row, and the
table the C++ SDK would read.
"""

import threading
import unittest

import grpc

import tcc_participant as tcc
from support import PointsService, TempDir, barrier_rows, branch_request, open_test_db


class BarrierTest(unittest.TestCase):
    def setUp(self) -> None:
        self.dir = TempDir()
        self.db = open_test_db(self.dir.file("points.db"))
        tcc.create_barrier_table(self.db)
        self.points = PointsService(self.db)
        self.points.setup("alice", 100)

    def tearDown(self) -> None:
        self.db.close()
        self.dir.remove()

    def run_phase(self, phase: str, request) -> tcc.BarrierAnswer:
        run = {"try": tcc.run_try, "confirm": tcc.run_confirm, "cancel": tcc.run_cancel}[phase]
        handler = {"try": self.points.on_try, "confirm": self.points.on_confirm,
                   "cancel": self.points.on_cancel}[phase]
        return run(self.db, request, handler)

    def test_try_confirm_and_their_duplicates(self) -> None:
        r = branch_request("g1")
        self.assertEqual(self.run_phase("try", r), tcc.BarrierAnswer())
        self.assertTrue(self.run_phase("try", r).duplicate)
        self.assertEqual(self.points.frozen(), 30)
        self.assertFalse(self.run_phase("confirm", r).duplicate)
        self.assertTrue(self.run_phase("confirm", r).duplicate)
        self.assertEqual((self.points.balance(), self.points.frozen()), (70, 0))
        self.assertEqual(self.points.effects("try"), 1)
        self.assertEqual(self.points.effects("confirm"), 1)
        self.assertEqual(barrier_rows(self.db, "g1"), [("points", "confirm", "success", ""),
                                                       ("points", "try", "success", "")])

    def test_refused_try_discards_its_writes_and_is_stored(self) -> None:
        r = branch_request("g2", payload="alice:500")
        first = self.run_phase("try", r)
        self.assertEqual((first.refused, first.reason), (True, "not enough points"))
        again = self.run_phase("try", r)
        self.assertEqual((again.refused, again.reason, again.duplicate),
                         (True, "not enough points", True))
        self.assertEqual(self.points.effects("try"), 0)  # the savepoint dropped it
        # A Cancel after the refusal: nothing was reserved, nothing runs.
        self.assertFalse(self.run_phase("cancel", r).refused)
        self.assertEqual(self.points.effects("cancel"), 0)
        self.assertEqual(barrier_rows(self.db, "g2"),
                         [("points", "cancel", "success", ""),
                          ("points", "try", "refused", "not enough points")])

    def test_cancel_before_try_is_empty_and_refuses_the_late_try(self) -> None:
        r = branch_request("g3")
        self.assertFalse(self.run_phase("cancel", r).refused)
        self.assertEqual(self.points.effects("cancel"), 0)
        late = self.run_phase("try", r)
        self.assertEqual((late.refused, late.reason), (True, tcc.CANCELLED_BEFORE_TRY_REASON))
        self.assertEqual((self.points.frozen(), self.points.effects("try")), (0, 0))
        self.assertEqual(barrier_rows(self.db, "g3"),
                         [("points", "cancel", "success", ""),
                          ("points", "try", "cancelled_before_try",
                           tcc.CANCELLED_BEFORE_TRY_REASON)])

    def test_confirm_without_a_successful_try_records_nothing(self) -> None:
        r = branch_request("g4")
        with self.assertRaises(tcc.TccError) as failed:
            self.run_phase("confirm", r)
        self.assertEqual(failed.exception.code, grpc.StatusCode.FAILED_PRECONDITION)
        self.assertIn("confirm without a successful try on record", failed.exception.message)
        self.assertEqual(barrier_rows(self.db, "g4"), [])

    def test_confirm_after_cancel_and_cancel_after_confirm_fail(self) -> None:
        cancelled, confirmed = branch_request("g5"), branch_request("g6")
        self.run_phase("try", cancelled)
        self.run_phase("cancel", cancelled)
        with self.assertRaises(tcc.TccError) as failed:
            self.run_phase("confirm", cancelled)
        self.assertIn("confirm after cancel", failed.exception.message)
        self.run_phase("try", confirmed)
        self.run_phase("confirm", confirmed)
        with self.assertRaises(tcc.TccError) as failed:
            self.run_phase("cancel", confirmed)
        self.assertEqual(failed.exception.code, grpc.StatusCode.FAILED_PRECONDITION)
        self.assertEqual((self.points.balance(), self.points.frozen()), (70, 0))

    def test_failing_handler_rolls_back_its_writes_and_the_barrier_row(self) -> None:
        r = branch_request("g7")

        def failing(tx: tcc.LocalTx, request) -> tcc.TryOutcome:
            self.points.on_try(tx, request)
            raise tcc.TccError(grpc.StatusCode.UNAVAILABLE, "downstream busy")
        with self.assertRaises(tcc.TccError) as failed:
            tcc.run_try(self.db, r, failing)
        self.assertEqual(failed.exception.code, grpc.StatusCode.UNAVAILABLE)
        self.assertEqual((self.points.frozen(), barrier_rows(self.db, "g7")), (0, []))
        # The retry runs the handler again.
        self.assertFalse(self.run_phase("try", r).duplicate)
        self.assertEqual(self.points.frozen(), 30)

    def test_try_handler_must_say_reserved_or_refused(self) -> None:
        with self.assertRaises(tcc.TccError) as failed:
            tcc.run_try(self.db, branch_request("g8"), lambda tx, r: None)
        self.assertEqual(failed.exception.code, grpc.StatusCode.INTERNAL)
        self.assertIn("return tcc_participant.reserved()", failed.exception.message)
        self.assertEqual(barrier_rows(self.db, "g8"), [])

    def test_malformed_ids_are_invalid_arguments(self) -> None:
        for request in (branch_request("bad gid"), branch_request("g9", branch_id="")):
            with self.assertRaises(tcc.TccError) as failed:
                self.run_phase("try", request)
            self.assertEqual(failed.exception.code, grpc.StatusCode.INVALID_ARGUMENT)

    def test_eight_concurrent_cancels_before_try_have_one_row_and_no_effect(self) -> None:
        r = branch_request("g10")
        self.run_phase("try", r)
        answers, start = [], threading.Barrier(8)

        def cancel() -> None:
            start.wait()
            answers.append(self.run_phase("cancel", r))
        threads = [threading.Thread(target=cancel) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(len(answers), 8)
        self.assertEqual(sum(1 for a in answers if not a.duplicate), 1)
        self.assertEqual(self.points.effects("cancel"), 1)
        self.assertEqual(self.points.frozen(), 0)

    def test_schema_is_the_cpp_sdks(self) -> None:
        columns = self.db.run_read_only(lambda tx: tx.query("PRAGMA table_info(tcc_barrier)"))
        self.assertEqual([(c[1], c[2], c[5]) for c in columns],
                         [("gid", "TEXT", 1), ("branch_id", "TEXT", 2), ("op", "TEXT", 3),
                          ("outcome", "TEXT", 0), ("reason", "TEXT", 0),
                          ("created_unix_ms", "BIGINT", 0)])


if __name__ == "__main__":
    unittest.main()
