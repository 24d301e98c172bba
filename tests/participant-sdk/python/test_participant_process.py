"""The example Python participant (examples/participant-python) as a real
process next to a real tccd, killed with kill -9 and restarted on the same
port and database file: an acknowledged Try survives and its Confirm goes
through once after the restart; a Try sent while it is down is rolled back
with an empty compensation that blocks the lost Try.
"""

import os
import signal
import subprocess
import sys
import time
import unittest

import grpc

import tcc_participant as tcc
from support import TempDir, Tccd, barrier_rows, branch_request, open_test_db, wait_for
from tcc_participant import coordinator_pb2 as pb
from tcc_participant._proto import participant_pb2_grpc

EXAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "examples",
                       "participant-python", "points_participant.py")


class ParticipantProcess:
    def __init__(self, work_dir: str, listen: str):
        self.port_file = os.path.join(work_dir, "participant.port")
        if os.path.exists(self.port_file):
            os.remove(self.port_file)
        self.log = open(os.path.join(work_dir, "participant.log"), "ab")
        self.process = subprocess.Popen(
            [sys.executable, EXAMPLE, f"--listen={listen}",
             f"--db={os.path.join(work_dir, 'points.db')}", f"--port_file={self.port_file}"],
            stdout=self.log, stderr=self.log)
        if not wait_for(lambda: os.path.exists(self.port_file) or self.process.poll() is not None):
            raise RuntimeError("the example participant wrote no port file within 10s")
        if self.process.poll() is not None:
            raise RuntimeError(f"the example participant exited ({self.process.returncode}); "
                               f"see {self.log.name}")
        with open(self.port_file) as f:
            self.port = int(f.read())

    def kill9(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self.log.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


class ParticipantProcessTest(unittest.TestCase):
    def setUp(self) -> None:
        self.dir = TempDir()
        self.tccd = Tccd(self.dir.path)
        self.client = tcc.InitiatorClient(self.tccd.address)
        self.participant = ParticipantProcess(self.dir.path, "127.0.0.1:0")
        self.target = f"127.0.0.1:{self.participant.port}"
        self.db = open_test_db(self.dir.file("points.db"))

    def tearDown(self) -> None:
        self.participant.stop()
        self.client.close()
        self.tccd.stop()
        self.db.close()
        self.dir.remove()

    def restart(self) -> None:
        self.participant = ParticipantProcess(self.dir.path, self.target)

    def account(self) -> "tuple[int, int]":
        return self.db.run_read_only(lambda tx: tx.query_one(
            "SELECT balance, frozen FROM accounts WHERE user = 'alice'"))

    def freeze(self, amount: int):
        return tcc.branch(self.target, "points.freeze", f"alice:{amount}", branch_id="points")

    def branch_of(self, gid: str):
        return self.client.get(gid).branches[0]

    def test_acknowledged_try_survives_kill9_and_is_confirmed_once(self) -> None:
        self.client.begin("k-1")
        self.assertTrue(tcc.all_tries_succeeded(self.client.try_branches("k-1", [self.freeze(30)])))
        self.participant.kill9()
        self.assertEqual(self.account(), (100, 30))  # the Try's freeze is on disk
        self.assertEqual(self.client.commit("k-1"), pb.TRANSACTION_STATE_COMMITTING)
        # The coordinator keeps trying the dead participant.
        self.assertTrue(wait_for(lambda: self.branch_of("k-1").attempts >= 2))
        self.assertEqual(self.client.get("k-1").state, pb.TRANSACTION_STATE_COMMITTING)
        self.restart()
        self.assertTrue(wait_for(
            lambda: self.client.get("k-1").state == pb.TRANSACTION_STATE_COMMITTED))
        self.assertEqual(self.account(), (70, 0))
        # A late duplicate of that Confirm has no second effect.
        with grpc.insecure_channel(self.target) as channel:
            reply = participant_pb2_grpc.ParticipantStub(channel).Confirm(
                branch_request("k-1", payload="alice:30"))
        self.assertEqual(reply.outcome, tcc.participant_pb2.OUTCOME_SUCCESS)
        self.assertEqual(self.account(), (70, 0))

    def test_try_lost_while_down_is_rolled_back_by_an_empty_compensation(self) -> None:
        self.participant.kill9()
        self.client.begin("k-2")
        tried = self.client.try_branches("k-2", [self.freeze(30)])
        self.assertEqual(tried.results[0].result, pb.TRY_RESULT_UNKNOWN)
        self.assertEqual(self.client.rollback("k-2"), pb.TRANSACTION_STATE_ROLLING_BACK)
        time.sleep(0.1)
        self.restart()
        self.assertTrue(wait_for(
            lambda: self.client.get("k-2").state == pb.TRANSACTION_STATE_ROLLED_BACK))
        self.assertEqual(self.account(), (100, 0))
        self.assertEqual(barrier_rows(self.db, "k-2"),
                         [("points", "cancel", "success", ""),
                          ("points", "try", "cancelled_before_try",
                           tcc.CANCELLED_BEFORE_TRY_REASON)])


if __name__ == "__main__":
    unittest.main()
