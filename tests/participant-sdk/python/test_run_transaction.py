"""run_transaction, the idempotent initiator, against a real tccd process:
a repeat of a finished request with the same gid replays the first answer
(committed, refused) without trying again or re-running the local writes; a
Try whose outcome is unknown leaves the GT TRYING and a repeat finishes it;
begin_guarded tells whether begin created the GT and leaves a decided one
alone. run_transaction folds Begin into its Try, and falls back to Begin
then Try against a coordinator older than TryRequest.begin.
"""

import threading
import unittest
from concurrent import futures

import grpc

import tcc_participant as tcc
from tcc_participant import coordinator_pb2 as pb
from tcc_participant._proto import coordinator_pb2_grpc as pb_grpc
from support import barrier_rows
from test_tccd_end_to_end import TccdFixture


class RunTransactionTest(TccdFixture):
    def test_repeat_after_commit_answers_committed_without_trying_again(self) -> None:
        args = dict(gid="order-1", branches=[self.freeze(30)], timeout_s=30)
        first = self.client.run_transaction(**args)
        self.assertTrue(first.committed)
        self.assertFalse(first.replayed)
        self.assertTrue(self.wait_for_state("order-1", pb.TRANSACTION_STATE_COMMITTED))
        again = self.client.run_transaction(**args)
        self.assertTrue(again.committed)
        self.assertTrue(again.replayed)
        self.assertEqual(again.state, pb.TRANSACTION_STATE_COMMITTED)
        self.assertEqual((self.points.effects("try"), self.points.effects("confirm")), (1, 1))
        self.assertEqual(self.points.balance(), 70)

    def test_repeat_after_refusal_answers_the_same_refusal(self) -> None:
        args = dict(gid="order-2", branches=[self.freeze(500)])
        first = self.client.run_transaction(**args)
        self.assertFalse(first.committed)
        self.assertFalse(first.replayed)
        self.assertEqual(first.refused_branch, "points")
        self.assertEqual(first.refusal, "not enough points")
        self.assertTrue(self.wait_for_state("order-2", pb.TRANSACTION_STATE_ROLLED_BACK))
        again = self.client.run_transaction(**args)
        self.assertTrue(again.replayed)
        self.assertEqual((again.state, again.refused_branch, again.refusal),
                         (pb.TRANSACTION_STATE_ROLLED_BACK, "points", "not enough points"))
        # The refusal discarded the Try's writes; the barrier keeps it, once.
        self.assertEqual(barrier_rows(self.points_db, "order-2"),
                         [("points", "cancel", "success", ""),
                          ("points", "try", "refused", "not enough points")])
        self.assertEqual((self.points.balance(), self.points.frozen()), (100, 0))

    def test_unknown_try_leaves_it_trying_and_a_repeat_finishes_it(self) -> None:
        self.points.fail_try = True
        args = dict(gid="order-3", branches=[self.freeze(20)])
        with self.assertRaises(tcc.TccError) as raised:
            self.client.run_transaction(**args)
        self.assertEqual(raised.exception.code, grpc.StatusCode.UNAVAILABLE)
        self.assertIn("order-3 is still TRYING", raised.exception.message)
        self.points.fail_try = False
        again = self.client.run_transaction(**args)
        self.assertTrue(again.committed)
        self.assertFalse(again.replayed)
        self.assertTrue(self.wait_for_state("order-3", pb.TRANSACTION_STATE_COMMITTED))
        self.assertEqual(self.points.balance(), 80)

    def test_local_writes_run_once_across_repeats(self) -> None:
        runs = []

        def writes(tx: tcc.LocalTx) -> None:
            runs.append(1)
            self.insert_order("order-4")(tx)
        args = dict(gid="order-4", branches=[self.freeze(10)], local_db=self.shop_db,
                    local_writes=writes, **{k: v for k, v in self.begin_args("order-4").items()
                                            if k != "gid"})
        first = self.client.run_transaction(**args)
        self.assertTrue(first.committed)
        self.assertFalse(first.replayed)
        again = self.client.run_transaction(**args)
        self.assertTrue(again.committed)
        self.assertTrue(again.replayed)
        self.assertEqual((len(runs), self.orders(), self.points.effects("try")), (1, 1, 1))

    def test_a_committable_try_reply_saves_the_get(self) -> None:
        args = dict(gid="order-5", branches=[self.freeze(10)], local_db=self.shop_db,
                    local_writes=self.insert_order("order-5"),
                    **{k: v for k, v in self.begin_args("order-5").items() if k != "gid"})
        self.assertTrue(self.client.run_transaction(**args).committed)
        # Begin rides in the Try (TryRequest.begin): Try and Commit only.
        self.assertEqual(self.tccd.rpcs("Begin"), 0)
        self.assertEqual(self.tccd.rpcs("Try"), 1)
        self.assertEqual(self.tccd.rpcs("GetTransaction"), 0)
        gt = self.client.get("order-5")
        self.assertEqual((gt.status_endpoint, gt.timeout_ms), (args["status_endpoint"], 30000))
        self.assertEqual(self.tccd.rpcs("GetTransaction"), 1)

        # By hand: with the Try's reply no get; without it (or from an
        # older tccd, whose reply lacks the field) one get.
        self.client.begin(**self.begin_args("order-6"))
        tried = self.client.try_branches("order-6", [self.freeze(10)])
        self.assertTrue(tried.committable)
        self.client.commit_with_local_transaction(
            self.shop_db, "order-6",
            lambda tx: tx.exec("INSERT INTO orders VALUES ('order-6', 'order-6')"), tried=tried)
        self.assertEqual(self.tccd.rpcs("GetTransaction"), 1)
        self.client.begin(**self.begin_args("order-7"))
        self.client.try_branches("order-7", [self.freeze(10)])
        self.client.commit_with_local_transaction(
            self.shop_db, "order-7",
            lambda tx: tx.exec("INSERT INTO orders VALUES ('order-7', 'order-7')"))
        self.assertEqual(self.tccd.rpcs("GetTransaction"), 2)
        for gid in ("order-5", "order-6", "order-7"):
            self.assertTrue(self.wait_for_state(gid, pb.TRANSACTION_STATE_COMMITTED), gid)
        self.assertEqual(self.points.balance(), 70)

    def test_failed_local_writes_roll_back_and_raise_their_error(self) -> None:
        def writes(tx: tcc.LocalTx) -> None:
            raise ValueError("order is paid")
        args = dict(gid="order-5", branches=[self.freeze(10)], local_db=self.shop_db,
                    local_writes=writes, status_endpoint=f"127.0.0.1:{self.status.port}")
        with self.assertRaisesRegex(ValueError, "order is paid"):
            self.client.run_transaction(**args)
        self.assertTrue(self.wait_for_state("order-5", pb.TRANSACTION_STATE_ROLLED_BACK))
        self.assertEqual((self.points.balance(), self.points.frozen()), (100, 0))

    def test_malformed_requests_are_refused_before_any_call(self) -> None:
        cases = [(dict(gid="", branches=[self.freeze(1)]), "needs a gid"),
                 (dict(gid="order-6", branches=[]), "at least one branch"),
                 (dict(gid="order-6", branches=[self.freeze(1, branch_id="")]),
                  "needs a branch_id"),
                 (dict(gid="order-6", branches=[self.freeze(1)], local_writes=lambda tx: None),
                  "needs local_db")]
        for args, message in cases:
            with self.assertRaises(tcc.TccError) as raised:
                self.client.run_transaction(**args)
            self.assertEqual(raised.exception.code, grpc.StatusCode.INVALID_ARGUMENT)
            self.assertIn(message, raised.exception.message)
        with self.assertRaises(tcc.TccError) as raised:
            self.client.get("order-6")
        self.assertEqual(raised.exception.code, grpc.StatusCode.NOT_FOUND)

    def test_guard_tells_created_and_leaves_a_decided_transaction_alone(self) -> None:
        with self.client.begin_guarded(**self.begin_args("order-7")) as gt:
            self.assertTrue(gt.created)
            self.assertEqual(gt.state, pb.TRANSACTION_STATE_TRYING)
            gt.try_branches([self.freeze(5)])
            self.client.commit("order-7")  # as a duplicate request would
        self.assertTrue(self.wait_for_state("order-7", pb.TRANSACTION_STATE_COMMITTED))
        repeat = self.client.begin_guarded(**self.begin_args("order-7"))
        self.assertFalse(repeat.created)
        self.assertEqual(repeat.state, pb.TRANSACTION_STATE_COMMITTED)
        self.assertTrue(repeat.decided)
        self.assertTrue(self.client.outcome("order-7").committed)


class OlderCoordinator(pb_grpc.CoordinatorServicer):
    """A coordinator from before TryRequest.begin: it ignores the field, so
    a Try of an unknown gid is NOT_FOUND. Records the calls it gets."""

    def __init__(self) -> None:
        self.calls = []
        self.begun = set()
        self.lock = threading.Lock()

    def Begin(self, request, context):
        with self.lock:
            self.calls.append("Begin")
            self.begun.add(request.gid.decode())
        return pb.BeginReply(gid=request.gid.decode(), created=True, state=pb.TRANSACTION_STATE_TRYING)

    def Try(self, request, context):
        with self.lock:
            self.calls.append("Try")
            known = request.gid.decode() in self.begun
        if not known:
            context.abort(grpc.StatusCode.NOT_FOUND, f"transaction {request.gid.decode()} not found")
        return pb.TryReply(results=[
            pb.BranchTryResult(branch_id=b.branch_id, result=pb.TRY_RESULT_SUCCEEDED)
            for b in request.branches])

    def Commit(self, request, context):
        with self.lock:
            self.calls.append("Commit")
        return pb.DecideReply(state=pb.TRANSACTION_STATE_COMMITTING)


class OlderCoordinatorTest(unittest.TestCase):
    def test_run_transaction_falls_back_to_begin_then_try(self) -> None:
        fake = OlderCoordinator()
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        pb_grpc.add_CoordinatorServicer_to_server(fake, server)
        port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        self.addCleanup(server.stop, None)
        client = tcc.InitiatorClient(f"127.0.0.1:{port}")
        self.addCleanup(client.close)
        outcome = client.run_transaction(
            "order-old", [tcc.branch("127.0.0.1:1", "points.freeze", b"10", "points")])
        self.assertTrue(outcome.committed)
        self.assertFalse(outcome.replayed)
        self.assertEqual(fake.calls, ["Try", "Begin", "Try", "Commit"])
        self.assertEqual(fake.begun, {"order-old"})


if __name__ == "__main__":
    unittest.main()
