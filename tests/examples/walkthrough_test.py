"""The README walkthrough ("Integrate your own service") as written: runs
examples/walkthrough/run.sh (tccd, the inventory and coupon participants in
C++, the loyalty participant in Python, the checkout initiator twice with the
same request id and once with a spent coupon, then tccctl list and show) on
free loopback ports and a temporary directory, and checks what it printed
and every database: the first request committed across all three
participants and checkout's own order table, the repeat replayed it without
a second effect, and the refused request left nothing behind.

Usage: walkthrough_test.py SOURCE_DIR BUILD_DIR PYTHON3 (the python3 with
Debian's grpcio, put first on PATH for the script's `python3`)
"""

import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import unittest

SOURCE_DIR, BUILD_DIR, PYTHON3 = sys.argv[1], sys.argv[2], sys.argv[3]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def query(path: str, sql: str) -> list:
    with sqlite3.connect(path) as db:
        return db.execute(sql).fetchall()


class WalkthroughTest(unittest.TestCase):
    def test_runs_as_written_and_commits_across_all_three(self) -> None:
        with tempfile.TemporaryDirectory(prefix="tcc-walkthrough-") as data:
            path = os.path.dirname(PYTHON3) + os.pathsep + os.environ.get("PATH", "")
            env = dict(os.environ, BUILD=BUILD_DIR, DATA=data, PATH=path)
            for name in ("TCCD", "CHECKOUT_STATUS", "INVENTORY", "COUPON", "LOYALTY"):
                env[name] = f"127.0.0.1:{free_port()}"
            run = subprocess.run(["bash", "examples/walkthrough/run.sh"], cwd=SOURCE_DIR, env=env,
                                 capture_output=True, text=True, timeout=90)
            output = run.stdout
            self.assertEqual(run.returncode, 0, f"stdout:\n{output}\nstderr:\n{run.stderr}")
            self.assertIn("checkout-r1: COMMITTED\n", output)
            self.assertIn("checkout-r1: COMMITTED (replayed)\n", output)
            self.assertIn("checkout-r2: ROLLED_BACK (refused by coupon: coupon WELCOME is not "
                          "valid)\n", output)
            # tccctl list names both with their states; show tells r1's.
            self.assertRegex(output, r"\ncheckout-r2 +ROLLED_BACK ")
            self.assertRegex(output, r"\ncheckout-r1 +COMMITTED ")
            self.assertRegex(output, r"Transaction checkout-r1\n +State: +COMMITTED\n")

            # Two books shipped once, the coupon used once, alice's points final,
            # bob's (the refused request) gone; one order, decided 'committed'.
            self.assertEqual(query(f"{data}/inventory.db",
                                   "SELECT available, reserved FROM stock WHERE sku = 'book'"),
                             [(8, 0)])
            self.assertEqual(query(f"{data}/coupon.db", "SELECT code, state FROM coupons"),
                             [("WELCOME", "USED")])
            self.assertEqual(query(f"{data}/loyalty.db", "SELECT gid, user, points, state FROM "
                                   "awards"), [("checkout-r1", "alice", 10, "FINAL")])
            self.assertEqual(query(f"{data}/checkout.db", "SELECT gid, sku, quantity, user FROM "
                                   "orders"), [("checkout-r1", "book", 2, "alice")])
            self.assertEqual(query(f"{data}/checkout.db",
                                   "SELECT gid, decision FROM tcc_decision"),
                             [("checkout-r1", "committed")])


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1])
