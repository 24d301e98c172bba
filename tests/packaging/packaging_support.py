"""Test support for the packaging tests: what `cmake --install` and
`cpack -G DEB` produce from this build tree, and the processes that run it.

ctest (tests/packaging/CMakeLists.txt) sets the environment: the source and
build trees, cmake and cpack, the C++ compiler (and ccache) for the
out-of-tree build, and a scratch directory under the build tree.
"""

import os
import shutil
import signal
import sqlite3
import subprocess
import time
from typing import Any, Callable, Dict, List, Optional


def env(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise RuntimeError(f"${name} is not set: run this through ctest (tests/packaging/)")
    return value


SOURCE_DIR = env("TCC_SOURCE_DIR")
BUILD_DIR = env("TCC_BUILD_DIR")
CMAKE = env("CMAKE_COMMAND")


def scratch_dir(name: str) -> str:
    """An empty directory under the build tree (kept after the test to look at)."""
    path = os.path.join(env("TCC_SCRATCH_DIR"), name)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def run(args: List[str], timeout_s: float = 120, extra_env: Optional[Dict[str, str]] = None,
        cwd: Optional[str] = None) -> subprocess.CompletedProcess:
    """Runs a command to completion; stdout and stderr together in .stdout."""
    command_env = dict(os.environ)
    command_env.update(extra_env or {})
    return subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=timeout_s, env=command_env, cwd=cwd)


def install(root: str, component: Optional[str] = None) -> subprocess.CompletedProcess:
    """cmake --install of this build tree as a package would: prefix /usr, DESTDIR=root."""
    args = [CMAKE, "--install", BUILD_DIR, "--prefix", "/usr"]
    if component:
        args += ["--component", component]
    return run(args, extra_env={"DESTDIR": root})


def wait_for(predicate: Callable[[], Any], timeout_s: float = 20.0) -> Any:
    """Polls predicate until it returns something true (returned) or the timeout passes."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    return predicate()


def query(db_path: str, sql: str, params: tuple = ()) -> List[tuple]:
    with sqlite3.connect(db_path, timeout=5) as db:
        return db.execute(sql, params).fetchall()


class Process:
    """A child process with its output in a log file, stopped with SIGTERM."""

    def __init__(self, args: List[str], log_path: str):
        self.log_path = log_path
        with open(log_path, "ab") as log:
            self._process = subprocess.Popen(args, stdout=log, stderr=log)

    def log(self) -> str:
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def exited(self) -> bool:
        return self._process.poll() is not None

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()


def start_tccd(tccd: str, work_dir: str) -> "tuple[Process, int]":
    """A real tccd on 127.0.0.1 and the port it chose; raises if it wrote none."""
    port_file = os.path.join(work_dir, "tccd.port")
    process = Process([tccd, "--listen=127.0.0.1:0", f"--port_file={port_file}",
                       f"--data={os.path.join(work_dir, 'tccd.db')}", "--sync=normal",
                       "--http_listen=", "--retry_initial_ms=20", "--retry_max_ms=200"],
                      os.path.join(work_dir, "tccd.log"))

    def port() -> int:
        try:
            with open(port_file) as f:
                return int(f.read().strip() or 0)
        except (FileNotFoundError, ValueError):
            return 0

    if not wait_for(lambda: port() or process.exited()) or not port():
        process.stop()
        raise RuntimeError(f"{tccd} wrote no port; its log:\n{process.log()}")
    return process, port()


def start_listening(args: List[str], log_path: str) -> "tuple[Process, int]":
    """A service that prints "... listening on port N" (the examples) and N."""
    process = Process(args, log_path)

    def port() -> int:
        for line in process.log().splitlines():
            if "listening on port " in line:
                return int(line.rsplit(" ", 1)[1])
        return 0

    if not wait_for(lambda: port() or process.exited()) or not port():
        process.stop()
        raise RuntimeError(f"{args[0]} did not say where it listens; its output:\n"
                           f"{process.log()}")
    return process, port()
