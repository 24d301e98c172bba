"""The Python library end to end with a real tccd process on loopback: a
Python participant (points, on its own SQLite file) and a Python initiator
with its status endpoint (orders plus the decision table, another file).

Covers a committed payment (effects once), a refused Try rolled back with
the barrier recording it, a duplicate Confirm delivered twice at once (one
effect), Cancel before Try then the late Try, the back-query after an
initiator that stopped after (committed) or before (fenced, rolled back,
late local commit refused) its local commit, and sagas.
"""

import threading
import time
import unittest

import grpc

import tcc_participant as tcc
from support import (PointsService, TempDir, Tccd, barrier_rows, branch_request, open_test_db,
                     query_value, wait_for)
from tcc_participant import coordinator_pb2 as pb
from tcc_participant._proto import participant_pb2_grpc


class TccdFixture(unittest.TestCase):
    def setUp(self) -> None:
        self.dir = TempDir()
        self.tccd = Tccd(self.dir.path)
        self.client = tcc.InitiatorClient(self.tccd.address)

        self.points_db = open_test_db(self.dir.file("points.db"))
        self.points = PointsService(self.points_db)
        self.points.setup("alice", 100)
        self.participant = tcc.ParticipantServer(self.points_db)
        self.points.register(self.participant)
        self.participant.start("127.0.0.1:0")
        self.target = f"127.0.0.1:{self.participant.port}"

        self.shop_db = open_test_db(self.dir.file("shop.db"))
        self.shop_db.run_in_transaction(
            lambda tx: tx.exec("CREATE TABLE orders (id TEXT PRIMARY KEY, gid TEXT)"))
        self.status = tcc.StatusEndpoint(self.shop_db)
        self.status.start("127.0.0.1:0")

    def tearDown(self) -> None:
        self.participant.shutdown(0)
        self.status.shutdown(0)
        self.client.close()
        self.tccd.stop()
        self.points_db.close()
        self.shop_db.close()
        self.dir.remove()

    def freeze(self, amount: int, branch_id: str = "points"):
        return tcc.branch(self.target, "points.freeze", f"alice:{amount}", branch_id=branch_id)

    def begin_args(self, gid: str, timeout_s: float = 30) -> dict:
        return {"gid": gid, "timeout_s": timeout_s,
                "status_endpoint": f"127.0.0.1:{self.status.port}"}

    def wait_for_state(self, gid: str, state: int) -> bool:
        return wait_for(lambda: self.client.get(gid).state == state)

    def insert_order(self, gid: str):
        return lambda tx: tx.exec("INSERT INTO orders VALUES ('order-1', ?)", (gid,))

    def orders(self) -> int:
        return query_value(self.shop_db, "SELECT COUNT(*) FROM orders")

    def decision_of(self, gid: str):
        return query_value(self.shop_db, "SELECT decision FROM tcc_decision WHERE gid = ?", (gid,))

    def participant_stub(self):
        channel = grpc.insecure_channel(self.target)
        self.addCleanup(channel.close)
        return participant_pb2_grpc.ParticipantStub(channel)


class TccEndToEndTest(TccdFixture):
    def test_payment_commits_locally_and_everywhere_with_effects_once(self) -> None:
        with self.client.begin_guarded(**self.begin_args("pay-1")) as gt:
            tried = gt.try_branches([self.freeze(30)])
            self.assertTrue(tcc.all_tries_succeeded(tried), tried)
            self.assertEqual(self.points.frozen(), 30)
            result = gt.commit_with_local_transaction(self.shop_db, self.insert_order("pay-1"))
            self.assertEqual(result.local, tcc.LocalCommit.COMMITTED)
        self.assertTrue(self.wait_for_state("pay-1", pb.TRANSACTION_STATE_COMMITTED))
        self.assertEqual((self.points.balance(), self.points.frozen()), (70, 0))
        self.assertEqual((self.points.effects("try"), self.points.effects("confirm")), (1, 1))
        self.assertEqual((self.orders(), self.decision_of("pay-1")), (1, "committed"))
        # Calling again is safe: the local writes do not run twice.
        again = self.client.commit_with_local_transaction(self.shop_db, "pay-1",
                                                          self.insert_order("pay-1"))
        self.assertEqual(again.local, tcc.LocalCommit.ALREADY_COMMITTED)
        self.assertEqual((self.orders(), self.points.balance()), (1, 70))

    def test_refused_try_rolls_back_and_the_barrier_records_it(self) -> None:
        with self.client.begin_guarded(**self.begin_args("pay-2")) as gt:
            tried = gt.try_branches([self.freeze(500)])
            self.assertEqual(tried.results[0].result, pb.TRY_RESULT_REFUSED)
            self.assertIn("not enough points", tried.results[0].detail)
            # Leaving the block undecided rolls the transaction back.
        self.assertTrue(self.wait_for_state("pay-2", pb.TRANSACTION_STATE_ROLLED_BACK))
        self.assertEqual((self.points.balance(), self.points.frozen()), (100, 0))
        self.assertEqual(self.points.effects("cancel"), 0)  # nothing frozen, nothing undone
        self.assertEqual(barrier_rows(self.points_db, "pay-2"),
                         [("points", "cancel", "success", ""),
                          ("points", "try", "refused", "not enough points")])

    def test_duplicate_confirm_delivered_twice_concurrently_has_one_effect(self) -> None:
        stub = self.participant_stub()
        request = branch_request("dup-1")
        self.assertEqual(stub.Try(request).outcome, tcc.participant_pb2.OUTCOME_SUCCESS)
        self.points.confirm_gate = threading.Event()
        replies = []

        def confirm() -> None:
            replies.append(stub.Confirm(request, timeout=10))
        threads = [threading.Thread(target=confirm) for _ in range(2)]
        for t in threads:
            t.start()
        # One delivery is inside its handler (holding the local transaction);
        # the other has arrived and waits. Neither may finish before the gate.
        self.assertTrue(self.points.confirm_entered.acquire(timeout=5))
        time.sleep(0.2)
        self.assertEqual(replies, [])
        self.points.confirm_gate.set()
        for t in threads:
            t.join(10)
        self.assertEqual([r.outcome for r in replies], [tcc.participant_pb2.OUTCOME_SUCCESS] * 2)
        self.assertEqual(self.points.effects("confirm"), 1)
        self.assertEqual((self.points.balance(), self.points.frozen()), (70, 0))
        # The duplicate never entered the handler.
        self.assertFalse(self.points.confirm_entered.acquire(timeout=0))

    def test_cancel_before_try_then_the_late_try_is_refused(self) -> None:
        stub = self.participant_stub()
        request = branch_request("late-1")
        self.assertEqual(stub.Cancel(request).outcome, tcc.participant_pb2.OUTCOME_SUCCESS)
        self.assertEqual(self.points.effects("cancel"), 0)  # empty compensation
        late = stub.Try(request)
        self.assertEqual(late.outcome, tcc.participant_pb2.OUTCOME_REFUSED)
        self.assertEqual(late.reason, tcc.CANCELLED_BEFORE_TRY_REASON)
        self.assertEqual((self.points.frozen(), self.points.effects("try")), (0, 0))

    def test_wire_errors_name_the_problem(self) -> None:
        stub = self.participant_stub()
        with self.assertRaises(grpc.RpcError) as unknown:
            stub.Try(branch_request("err-1", action="points.unknown"))
        self.assertEqual(unknown.exception.code(), grpc.StatusCode.UNIMPLEMENTED)
        self.assertIn("points.freeze", unknown.exception.details())
        with self.assertRaises(grpc.RpcError) as confirm:
            stub.Confirm(branch_request("err-2"))
        self.assertEqual(confirm.exception.code(), grpc.StatusCode.FAILED_PRECONDITION)
        with self.assertRaises(grpc.RpcError) as bad:
            stub.Try(branch_request("bad gid"))
        self.assertEqual(bad.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)

    def test_initiator_stopped_after_its_local_commit_is_committed_by_back_query(self) -> None:
        self.client.begin(**self.begin_args("pay-3", timeout_s=0.3))
        self.assertTrue(tcc.all_tries_succeeded(
            self.client.try_branches("pay-3", [self.freeze(40)])))
        # The local commit happens; Commit is never sent (the process "died").
        tcc.commit_locally(self.shop_db, "pay-3", self.insert_order("pay-3"))
        self.assertTrue(self.wait_for_state("pay-3", pb.TRANSACTION_STATE_COMMITTED))
        self.assertEqual((self.points.balance(), self.points.frozen()), (60, 0))
        self.assertEqual(self.decision_of("pay-3"), "committed")
        self.assertIn("status endpoint answered COMMITTED",
                      self.client.get("pay-3").decision_reason)

    def test_initiator_stopped_before_its_local_commit_is_fenced_and_rolled_back(self) -> None:
        self.client.begin(**self.begin_args("pay-4", timeout_s=0.3))
        self.assertTrue(tcc.all_tries_succeeded(
            self.client.try_branches("pay-4", [self.freeze(40)])))
        self.assertTrue(self.wait_for_state("pay-4", pb.TRANSACTION_STATE_ROLLED_BACK))
        self.assertEqual((self.points.balance(), self.points.frozen()), (100, 0))
        self.assertEqual(self.decision_of("pay-4"), "rolled_back")
        # The initiator comes back and commits locally: the fence wins.
        with self.assertRaises(tcc.FencedError) as fenced:
            tcc.commit_locally(self.shop_db, "pay-4", self.insert_order("pay-4"))
        self.assertEqual(fenced.exception.code, grpc.StatusCode.FAILED_PRECONDITION)
        self.assertEqual(self.orders(), 0)
        # And the client's own path refuses before touching the database.
        with self.assertRaises(tcc.TccError) as late:
            self.client.commit_with_local_transaction(self.shop_db, "pay-4",
                                                      self.insert_order("pay-4"))
        self.assertIn("ROLLED_BACK", late.exception.message)
        self.assertEqual(self.orders(), 0)


class SagaEndToEndTest(TccdFixture):
    def setUp(self) -> None:
        super().setUp()
        # The saga participant spends points for real in its action and gives
        # them back in its compensation.
        self.saga_server = tcc.ParticipantServer(self.points_db)
        self.saga_server.add_action("points.spend", *tcc.saga_step_handlers(
            self.spend, self.give_back))
        self.saga_server.start("127.0.0.1:0")
        self.saga_target = f"127.0.0.1:{self.saga_server.port}"

    def tearDown(self) -> None:
        self.saga_server.shutdown(0)
        super().tearDown()

    @staticmethod
    def spend(tx: tcc.LocalTx, request) -> tcc.TryOutcome:
        amount = int(request.payload)
        if tx.exec("UPDATE accounts SET balance = balance - ?1 WHERE user = 'alice'"
                   " AND balance >= ?1", (amount,)) == 0:
            return tcc.refused("not enough points")
        return tcc.reserved()

    @staticmethod
    def give_back(tx: tcc.LocalTx, request) -> None:
        tx.exec("UPDATE accounts SET balance = balance + ? WHERE user = 'alice'",
                (int(request.payload),))

    def step(self, amount: int):
        return tcc.saga_step(self.saga_target, "points.spend", str(amount))

    def test_saga_commits(self) -> None:
        outcome = self.client.submit_saga([self.step(10), self.step(20)], gid="saga-1",
                                          wait_for_result_s=10)
        self.assertEqual((outcome.state, outcome.created), (pb.TRANSACTION_STATE_COMMITTED, True))
        self.assertEqual(self.points.balance(), 70)
        again = self.client.submit_saga([self.step(10), self.step(20)], gid="saga-1",
                                        wait_for_result_s=10)
        self.assertEqual((again.state, again.created), (pb.TRANSACTION_STATE_COMMITTED, False))
        self.assertEqual(self.points.balance(), 70)

    def test_refused_step_compensates_the_ones_before(self) -> None:
        outcome = self.client.submit_saga([self.step(10), self.step(500)], gid="saga-2",
                                          wait_for_result_s=10)
        self.assertEqual(outcome.state, pb.TRANSACTION_STATE_ROLLED_BACK)
        self.assertEqual((outcome.refused_step, outcome.refusal), ("s2", "not enough points"))
        self.assertEqual(self.points.balance(), 100)


if __name__ == "__main__":
    unittest.main()
