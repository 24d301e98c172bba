"""Test support for the Python participant library: a real tccd process on
a loopback port, a points service (a Python participant on its own SQLite
file), a shop database for the initiator, and small waits.

The tests run from ctest (sdk_python_test), which sets TCCD to the built
binary and PYTHONPATH to the package and its generated protobuf modules.
"""

import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.request
from typing import Any, Callable, List, Optional

import tcc_participant as tcc

TCCD = os.environ.get("TCCD", "")


def wait_for(predicate: Callable[[], bool], timeout_s: float = 10.0) -> bool:
    """Polls predicate until it is true (True) or the timeout passes (False)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


class TempDir:
    def __init__(self) -> None:
        self.path = tempfile.mkdtemp(prefix="tcc-py-")

    def file(self, name: str) -> str:
        return os.path.join(self.path, name)

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


class TestPki:
    """A throwaway CA made with openssl in `directory`, and certificates it
    signs (SAN IP:127.0.0.1 and DNS:localhost plus any extra SANs), each
    good for server and client authentication."""

    def __init__(self, directory: str):
        self.dir = directory
        self.ca_file = self._path("ca.pem")
        self._ca_key = self._path("ca.key")
        self._openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                      "-nodes", "-keyout", self._ca_key, "-out", self.ca_file, "-days", "2",
                      "-subj", "/CN=py-test-ca", "-addext", "basicConstraints=critical,CA:TRUE",
                      "-addext", "keyUsage=critical,keyCertSign,cRLSign")

    def _path(self, name: str) -> str:
        return os.path.join(self.dir, name)

    def _openssl(self, *args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True)

    def issue(self, name: str, extra_sans: str = "") -> "tcc.TlsFiles":
        """CN=<name>; a TlsFiles with ca_file, cert_file and key_file."""
        cert, key, csr, ext = (self._path(f"{name}.{s}") for s in ("pem", "key", "csr", "ext"))
        with open(ext, "w") as f:
            f.write(f"subjectAltName=IP:127.0.0.1,DNS:localhost{extra_sans}\n"
                    "basicConstraints=critical,CA:FALSE\n"
                    "keyUsage=critical,digitalSignature,keyEncipherment\n"
                    "extendedKeyUsage=serverAuth,clientAuth\n")
        self._openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                      "-nodes", "-keyout", key, "-out", csr, "-subj", f"/CN={name}")
        self._openssl("x509", "-req", "-in", csr, "-CA", self.ca_file, "-CAkey", self._ca_key,
                      "-CAcreateserial", "-out", cert, "-days", "1", "-extfile", ext)
        return tcc.TlsFiles(ca_file=self.ca_file, cert_file=cert, key_file=key)


class Tccd:
    """A real tccd process with fast retries, on 127.0.0.1 and a port file."""

    def __init__(self, work_dir: str, extra_args: Optional[List[str]] = None):
        if not TCCD or not os.access(TCCD, os.X_OK):
            raise RuntimeError(f"TCCD={TCCD!r} is not an executable tccd; build the tccd target "
                               "and run through ctest (sdk_python_test), or set TCCD=path/to/tccd")
        port_file = os.path.join(work_dir, "tccd.port")
        http_port_file = os.path.join(work_dir, "tccd.http_port")
        self.log_path = os.path.join(work_dir, "tccd.log")
        args = [TCCD, "--listen=127.0.0.1:0", f"--port_file={port_file}",
                f"--http_port_file={http_port_file}",
                f"--data={os.path.join(work_dir, 'tccd.db')}", "--sync=normal",
                "--log_level=warn", "--retry_initial_ms=20", "--retry_max_ms=200"]
        with open(self.log_path, "ab") as log:
            self._process = subprocess.Popen(args + (extra_args or []), stdout=log, stderr=log)
        self.port = self._wait_for_port(port_file)
        self.address = f"127.0.0.1:{self.port}"
        self.http_port = self._wait_for_port(http_port_file)

    def rpcs(self, method: str) -> int:
        """Calls of tcc.v1.Coordinator's `method` served so far, every status
        code, from tccd's /metrics."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}/metrics") as page:
            text = page.read().decode()
        prefix = f'tcc_rpc_requests_total{{service="tcc.v1.Coordinator",method="{method}",'
        return sum(int(float(line.split()[-1])) for line in text.splitlines()
                   if line.startswith(prefix))

    def _wait_for_port(self, port_file: str, timeout_s: float = 20.0) -> int:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                with open(port_file) as f:
                    port = int(f.read().strip() or 0)
                if port > 0:
                    return port
            except (FileNotFoundError, ValueError):
                pass
            if self._process.poll() is not None:
                raise RuntimeError(f"tccd exited ({self._process.returncode}) before writing "
                                   f"{port_file}; see {self.log_path}")
            time.sleep(0.005)
        self.stop()
        raise RuntimeError(f"tccd wrote no port within {timeout_s}s; see {self.log_path}")

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()


def open_test_db(path: str) -> tcc.Database:
    # synchronous=NORMAL: durable against a process crash, fast for tests.
    return tcc.open_sqlite_database(path, synchronous_full=False)


def query_value(db: tcc.Database, sql: str, params: tuple = ()) -> Any:
    row = db.run_read_only(lambda tx: tx.query_one(sql, params))
    return None if row is None else row[0]


class PointsService:
    """A participant: action "points.freeze", payload "user:amount".

    Try freezes the amount if the balance allows (else refuses), Confirm
    deducts it, Cancel unfreezes it. Every handler run also writes a row to
    `effects` in the same local transaction, so the tests count business
    effects from the database. Confirm can be held at a gate to make two
    deliveries overlap; Try can be told to fail (fail_try), leaving its
    outcome unknown to the coordinator.
    """

    def __init__(self, db: tcc.Database):
        self.db = db
        self.fail_try = False
        self.confirm_gate: Optional[threading.Event] = None
        self.confirm_entered = threading.Semaphore(0)

    def setup(self, user: str, balance: int) -> None:
        def create(tx: tcc.LocalTx) -> None:
            tx.exec("CREATE TABLE IF NOT EXISTS accounts (user TEXT PRIMARY KEY,"
                    " balance INTEGER NOT NULL, frozen INTEGER NOT NULL)")
            tx.exec("CREATE TABLE IF NOT EXISTS effects (gid TEXT, branch_id TEXT, phase TEXT)")
            tx.exec("INSERT INTO accounts VALUES (?, ?, 0)", (user, balance))
        self.db.run_in_transaction(create)

    @staticmethod
    def _parse(request: Any) -> "tuple[str, int]":
        user, amount = request.payload.decode().split(":")
        return user, int(amount)

    @staticmethod
    def _effect(tx: tcc.LocalTx, request: Any, phase: str) -> None:
        tx.exec("INSERT INTO effects VALUES (?, ?, ?)", (request.gid, request.branch_id, phase))

    def on_try(self, tx: tcc.LocalTx, request: Any) -> tcc.TryOutcome:
        if self.fail_try:
            raise RuntimeError("injected try failure")
        user, amount = self._parse(request)
        self._effect(tx, request, "try")
        changed = tx.exec("UPDATE accounts SET frozen = frozen + ?1 WHERE user = ?2"
                          " AND balance - frozen >= ?1", (amount, user))
        if changed == 0:
            return tcc.refused("not enough points")
        return tcc.reserved()

    def on_confirm(self, tx: tcc.LocalTx, request: Any) -> None:
        if self.confirm_gate is not None:
            self.confirm_entered.release()
            self.confirm_gate.wait(5)
        user, amount = self._parse(request)
        self._effect(tx, request, "confirm")
        tx.exec("UPDATE accounts SET balance = balance - ?1, frozen = frozen - ?1"
                " WHERE user = ?2", (amount, user))

    def on_cancel(self, tx: tcc.LocalTx, request: Any) -> None:
        user, amount = self._parse(request)
        self._effect(tx, request, "cancel")
        tx.exec("UPDATE accounts SET frozen = frozen - ?1 WHERE user = ?2", (amount, user))

    def register(self, server: tcc.ParticipantServer) -> None:
        server.add_action("points.freeze", self.on_try, self.on_confirm, self.on_cancel)

    def balance(self, user: str = "alice") -> int:
        return query_value(self.db, "SELECT balance FROM accounts WHERE user = ?", (user,))

    def frozen(self, user: str = "alice") -> int:
        return query_value(self.db, "SELECT frozen FROM accounts WHERE user = ?", (user,))

    def effects(self, phase: str, gid: Optional[str] = None) -> int:
        if gid is None:
            return query_value(self.db, "SELECT COUNT(*) FROM effects WHERE phase = ?", (phase,))
        return query_value(self.db, "SELECT COUNT(*) FROM effects WHERE phase = ? AND gid = ?",
                           (phase, gid))


def barrier_rows(db: tcc.Database, gid: str) -> List[tuple]:
    """(branch_id, op, outcome, reason) of every barrier row of gid, sorted."""
    return db.run_read_only(lambda tx: tx.query(
        "SELECT branch_id, op, outcome, reason FROM tcc_barrier WHERE gid = ?"
        " ORDER BY branch_id, op", (gid,)))


def branch_request(gid: str, branch_id: str = "points", payload: str = "alice:30",
                   action: str = "points.freeze") -> Any:
    return tcc.participant_pb2.BranchRequest(gid=gid, branch_id=branch_id, action=action,
                                             payload=payload.encode())
