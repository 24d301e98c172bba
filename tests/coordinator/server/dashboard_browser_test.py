"""tccd's web dashboard in a real browser (Debian's headless Chromium through
python3-selenium and chromium-driver).

A real tccd process (SQLite in a temp dir, loopback ports picked by the
kernel) gets committed and rolled-back transactions from a Python
participant, one commit whose Confirm keeps failing (the participant's
database is "down": stuck, the participant failing) and one rollback whose
participant is gone. The test opens the overview while a little load runs,
follows the stuck count to the list, opens the stuck transaction, fixes the
participant, presses "Retry now" and sees the transaction COMMITTED, with
the participant's balance deducted once. Screenshots go to $SCREENSHOT_DIR
(the build tree); docs/dashboard.png is one of them.

Run by ctest (dashboard_browser_test), which sets TCCD, SCREENSHOT_DIR and
PYTHONPATH (the Python participant library and its test support).
"""

import os
import socket
import threading
import time
import unittest
import urllib.request

import grpc

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

import tcc_participant as tcc
from support import PointsService, TempDir, Tccd, open_test_db, wait_for
from tcc_participant import coordinator_pb2 as pb

SCREENSHOT_DIR = os.environ.get("SCREENSHOT_DIR", ".")


class FlakyPoints(PointsService):
    """Points whose Confirm fails while `down` is set, as when its database
    is unreachable: the coordinator keeps the transaction COMMITTING."""

    def __init__(self, db: tcc.Database):
        super().__init__(db)
        self.down = False

    def on_confirm(self, tx: tcc.LocalTx, request) -> None:
        if self.down:
            raise tcc.TccError(grpc.StatusCode.UNAVAILABLE,
                               "points database is down (connection refused)")
        super().on_confirm(tx, request)


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def chromium() -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1366,900", "--force-device-scale-factor=1"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


class DashboardBrowserTest(unittest.TestCase):
    def setUp(self) -> None:
        self.dir = TempDir()
        # No automatic retry within the test (only the operator's), and a
        # transaction is stuck after its first failed attempt.
        self.tccd = Tccd(self.dir.path, ["--http_listen=127.0.0.1:0",
                                         "--retry_initial_ms=600000", "--retry_max_ms=600000",
                                         "--stuck_after_attempts=1"])
        self.base = f"http://127.0.0.1:{self.tccd.http_port}"
        self.client = tcc.InitiatorClient(self.tccd.address)
        self.points_db = open_test_db(self.dir.file("points.db"))
        self.points = FlakyPoints(self.points_db)
        self.points.setup("alice", 1_000_000)
        self.participant = tcc.ParticipantServer(self.points_db)
        self.points.register(self.participant)
        self.participant.start("127.0.0.1:0")
        self.target = f"127.0.0.1:{self.participant.port}"
        # A healthy participant for the background load.
        self.stock_db = open_test_db(self.dir.file("stock.db"))
        self.stock = PointsService(self.stock_db)
        self.stock.setup("alice", 1_000_000)
        self.stock_server = tcc.ParticipantServer(self.stock_db)
        self.stock.register(self.stock_server)
        self.stock_server.start("127.0.0.1:0")
        self.browser = chromium()
        self.wait = WebDriverWait(self.browser, 15)

    def tearDown(self) -> None:
        # Where the browser ended, also when the test failed.
        self.browser.save_screenshot(os.path.join(SCREENSHOT_DIR, "dashboard-last.png"))
        self.browser.quit()
        self.participant.shutdown(0)
        self.stock_server.shutdown(0)
        self.client.close()
        self.tccd.stop()
        self.points_db.close()
        self.stock_db.close()
        self.dir.remove()

    def pay(self, gid: str, amount: int = 10, target: str = "") -> None:
        self.client.begin(gid, timeout_s=30)
        branch = tcc.branch(target or self.target, "points.freeze", f"alice:{amount}",
                            branch_id="points")
        tried = self.client.try_branches(gid, [branch])
        if tcc.all_tries_succeeded(tried):
            self.client.commit(gid)
        else:
            self.client.rollback(gid)

    def state(self, gid: str) -> int:
        return self.client.get(gid).state

    def load(self, stop: threading.Event) -> None:
        n = 0
        while not stop.is_set():
            self.pay(f"load-{n}", 1, target=f"127.0.0.1:{self.stock_server.port}")
            n += 1
            time.sleep(0.02)

    def screenshot(self, name: str) -> None:
        path = os.path.join(SCREENSHOT_DIR, f"dashboard-{name}.png")
        self.assertTrue(self.browser.save_screenshot(path), path)

    def text(self, css: str) -> str:
        return self.wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, css))).text

    def test_find_the_stuck_transaction_retry_it_and_see_it_committed(self) -> None:
        for gid in ("order-1001", "order-1002", "order-1003"):
            self.pay(gid)
        self.pay("order-1004", amount=10_000_000)  # Refused: rolled back.
        self.pay("order-1005", target=f"127.0.0.1:{closed_port()}")  # Gone: Cancel fails.
        self.points.down = True
        self.pay("order-1006", amount=250)
        self.assertTrue(wait_for(lambda: self.state("order-1006")
                                 == pb.TRANSACTION_STATE_COMMITTING))
        self.assertTrue(wait_for(lambda: self.client.get("order-1006").stuck))
        self.assertEqual(self.state("order-1004"), pb.TRANSACTION_STATE_ROLLED_BACK)

        # Overview, with the live graph fed by a little load.
        stop = threading.Event()
        loader = threading.Thread(target=self.load, args=(stop,))
        loader.start()
        try:
            self.browser.get(self.base + "/")
            stuck = self.wait.until(EC.visibility_of_element_located((By.ID, "stuck-card")))
            self.assertIn("STUCK", stuck.text)
            time.sleep(7)  # A few 2 s samples of /metrics for the graph.
        finally:
            stop.set()
            loader.join()
        self.assertNotIn("peak 0.0 /s", self.text("#chart-throughput"))
        failing = self.text("#failing-targets")
        self.assertIn(self.target, failing)
        self.assertIn("points database is down", failing)
        self.assertIn("COMMITTED", self.text("#state-counts"))
        self.screenshot("overview")

        # The stuck count leads to the list of stuck transactions.
        self.browser.find_element(By.ID, "stuck-card").click()
        row = self.wait.until(EC.visibility_of_element_located(
            (By.CSS_SELECTOR, 'tr[data-gid="order-1006"]')))
        self.assertIn("STUCK", row.text)
        self.assertIn("COMMITTING", row.text)
        listed = self.text("#transactions")
        self.assertNotIn("order-1001", listed)  # Committed: not stuck.
        self.screenshot("stuck-list")

        row.find_element(By.CSS_SELECTOR, "a.gid-link").click()
        self.wait.until(EC.text_to_be_present_in_element((By.ID, "tx-gid"), "order-1006"))
        self.assertIn("COMMITTING", self.text("#tx-state"))
        self.assertIn("points database is down", self.text("#branches"))
        self.assertIn("committed", self.text("#timeline").lower())
        self.screenshot("transaction-stuck")

        # Fixed: the operator retries now instead of waiting for the backoff.
        self.points.down = False
        self.assertEqual(self.state("order-1006"), pb.TRANSACTION_STATE_COMMITTING)
        self.browser.find_element(By.ID, "retry-button").click()
        WebDriverWait(self.browser, 20).until(
            EC.text_to_be_present_in_element((By.ID, "tx-state"), "COMMITTED"))
        self.assertEqual(self.text("#tx-state"), "COMMITTED")
        self.assertIn("Retry scheduled", self.text("#message"))
        self.assertEqual(self.state("order-1006"), pb.TRANSACTION_STATE_COMMITTED)
        self.assertEqual(self.points.effects("confirm", "order-1006"), 1)
        self.assertIn("retry", self.text("#timeline").lower())
        self.screenshot("transaction-committed")

        # The dashboard came entirely from tccd: no other origin was asked.
        with urllib.request.urlopen(self.base + "/") as page:
            self.assertNotIn("https://", page.read().decode())


if __name__ == "__main__":
    unittest.main()
