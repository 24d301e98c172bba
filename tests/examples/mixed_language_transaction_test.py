"""One global transaction across a C++ participant and a Python one: the C++
example (examples/participant-minimal, the SDK) and the Python example
(examples/participant-python, the Python library) each run as their own
process on their own SQLite file, with a real tccd; a Python initiator with
its status endpoint pays from both. Checked on both sides: the balances,
the barrier rows each SDK wrote, and the coordinator's outcome, for a commit
and for a rollback that one side's refusal causes on the other.
"""

import os
import sqlite3
import subprocess
import sys
import unittest

import tcc_participant as tcc
from support import TempDir, Tccd, open_test_db, wait_for
from tcc_participant import coordinator_pb2 as pb

PARTICIPANT_MINIMAL = os.environ.get("PARTICIPANT_MINIMAL", "")
PYTHON_EXAMPLE = os.environ.get("PYTHON_PARTICIPANT_EXAMPLE", "")


def query(path: str, sql: str, params: tuple = ()) -> list:
    with sqlite3.connect(path, timeout=5) as db:
        return db.execute(sql, params).fetchall()


def points(path: str) -> tuple:
    """alice's (balance, frozen)."""
    rows = query(path, "SELECT balance, frozen FROM accounts WHERE user = 'alice'")
    return rows[0] if rows else None


def barrier(path: str, gid: str) -> list:
    return query(path, "SELECT op, outcome FROM tcc_barrier WHERE gid = ? ORDER BY op", (gid,))


class MixedLanguageTransactionTest(unittest.TestCase):
    def setUp(self) -> None:
        for name, path in [("PARTICIPANT_MINIMAL", PARTICIPANT_MINIMAL),
                           ("PYTHON_PARTICIPANT_EXAMPLE", PYTHON_EXAMPLE)]:
            self.assertTrue(os.path.isfile(path), f"${name}={path!r}: run through ctest")
        self.dir = TempDir()
        self.addCleanup(self.dir.remove)
        self.tccd = Tccd(self.dir.path)
        self.addCleanup(self.tccd.stop)
        self.cpp_db = self.dir.file("cpp-points.db")
        self.cpp_target = self.start_participant(
            "cpp", [PARTICIPANT_MINIMAL, "--listen=127.0.0.1:0", f"--db={self.cpp_db}"])
        self.py_db = self.dir.file("py-points.db")
        self.py_target = self.start_participant(
            "py", [sys.executable, PYTHON_EXAMPLE, "--listen=127.0.0.1:0", f"--db={self.py_db}"])

        self.shop_db = open_test_db(self.dir.file("shop.db"))
        self.addCleanup(self.shop_db.close)
        self.shop_db.run_in_transaction(
            lambda tx: tx.exec("CREATE TABLE orders (id TEXT PRIMARY KEY, gid TEXT)"))
        self.status = tcc.StatusEndpoint(self.shop_db)
        self.status.start("127.0.0.1:0")
        self.addCleanup(self.status.shutdown, 0)
        self.client = tcc.InitiatorClient(self.tccd.address)
        self.addCleanup(self.client.close)

    def start_participant(self, name: str, args: list) -> str:
        """Starts an example and returns its target, from the port it prints."""
        log_path = self.dir.file(f"{name}.log")
        log = open(log_path, "wb")
        self.addCleanup(log.close)
        process = subprocess.Popen(args, stdout=log, stderr=log)
        self.addCleanup(lambda: (process.terminate(), process.wait(10)))

        def port() -> int:
            with open(log_path) as f:
                for line in f:
                    if "listening on port " in line:
                        return int(line.rsplit(" ", 1)[1])
            return 0

        if not (wait_for(lambda: port() > 0 or process.poll() is not None, 30) and port()):
            with open(log_path) as f:
                self.fail(f"the {name} participant did not say where it listens:\n{f.read()}")
        return f"127.0.0.1:{port()}"

    def pay(self, gid: str, cpp_points: int, py_points: int):
        """Tries both branches; commits with the order row if both reserved."""
        with self.client.begin_guarded(gid=gid, timeout_s=30,
                                       status_endpoint=f"127.0.0.1:{self.status.port}") as gt:
            tried = gt.try_branches([
                tcc.branch(self.cpp_target, "points.freeze", f"alice:{cpp_points}",
                           branch_id="cpp"),
                tcc.branch(self.py_target, "points.freeze", f"alice:{py_points}",
                           branch_id="py")])
            if tcc.all_tries_succeeded(tried):
                gt.commit_with_local_transaction(self.shop_db, lambda tx: tx.exec(
                    "INSERT INTO orders VALUES ('order-1', ?)", (gid,)))
            return tried  # otherwise the guard rolls back

    def wait_for_state(self, gid: str, state: int) -> bool:
        return wait_for(lambda: self.client.get(gid).state == state, 20)

    def test_commit_confirms_on_the_cpp_and_the_python_side(self) -> None:
        self.pay("mixed-commit", cpp_points=30, py_points=40)
        self.assertTrue(self.wait_for_state("mixed-commit", pb.TRANSACTION_STATE_COMMITTED))
        self.assertTrue(wait_for(lambda: points(self.cpp_db) == (70, 0)), points(self.cpp_db))
        self.assertTrue(wait_for(lambda: points(self.py_db) == (60, 0)), points(self.py_db))
        for db in [self.cpp_db, self.py_db]:
            self.assertEqual(barrier(db, "mixed-commit"),
                             [("confirm", "success"), ("try", "success")], db)
        self.assertEqual(query(self.shop_db_path(), "SELECT gid FROM orders"),
                         [("mixed-commit",)])
        print(f"\nmixed-commit COMMITTED: C++ participant alice (balance, frozen) = "
              f"{points(self.cpp_db)}, barrier {barrier(self.cpp_db, 'mixed-commit')}; "
              f"Python participant alice = {points(self.py_db)}, barrier "
              f"{barrier(self.py_db, 'mixed-commit')}", flush=True)

    def test_a_python_refusal_cancels_the_cpp_reservation(self) -> None:
        tried = self.pay("mixed-py-refuses", cpp_points=30, py_points=500)
        results = {r.branch_id: r.result for r in tried.results}
        self.assertEqual(results, {"cpp": pb.TRY_RESULT_SUCCEEDED, "py": pb.TRY_RESULT_REFUSED})
        self.assertTrue(self.wait_for_state("mixed-py-refuses", pb.TRANSACTION_STATE_ROLLED_BACK))
        self.assertEqual(points(self.cpp_db), (100, 0))  # frozen by Try, released by Cancel
        self.assertEqual(points(self.py_db), (100, 0))
        self.assertEqual(barrier(self.cpp_db, "mixed-py-refuses"),
                         [("cancel", "success"), ("try", "success")])
        self.assertEqual(barrier(self.py_db, "mixed-py-refuses"),
                         [("cancel", "success"), ("try", "refused")])
        self.assertEqual(query(self.shop_db_path(), "SELECT COUNT(*) FROM orders"), [(0,)])

    def test_a_cpp_refusal_cancels_the_python_reservation(self) -> None:
        tried = self.pay("mixed-cpp-refuses", cpp_points=500, py_points=40)
        results = {r.branch_id: r.result for r in tried.results}
        self.assertEqual(results, {"cpp": pb.TRY_RESULT_REFUSED, "py": pb.TRY_RESULT_SUCCEEDED})
        self.assertTrue(self.wait_for_state("mixed-cpp-refuses", pb.TRANSACTION_STATE_ROLLED_BACK))
        self.assertEqual(points(self.py_db), (100, 0))
        self.assertEqual(barrier(self.cpp_db, "mixed-cpp-refuses"),
                         [("cancel", "success"), ("try", "refused")])
        self.assertEqual(barrier(self.py_db, "mixed-cpp-refuses"),
                         [("cancel", "success"), ("try", "success")])

    def shop_db_path(self) -> str:
        return self.dir.file("shop.db")


if __name__ == "__main__":
    unittest.main(verbosity=2)
