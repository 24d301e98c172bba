"""A gRPC server on a bounded thread pool, shared by ParticipantServer and
StatusEndpoint (the Python counterpart of the C++ SDK's ServerHost).

gRPC Python runs each call on a worker thread of a ThreadPoolExecutor;
maximum_concurrent_rpcs bounds the calls running or waiting, and gRPC
answers RESOURCE_EXHAUSTED past it, as the C++ SDK's bounded queue does.
Internal.
"""

from concurrent import futures
from typing import Callable, Optional

import grpc

from .errors import TccError, failed_precondition, invalid_argument
from .tls import TlsFiles, server_credentials


class ServerHost:
    def __init__(self, name: str, worker_threads: int, max_queued_calls: int,
                 tls: Optional[TlsFiles] = None):
        if worker_threads < 1:
            raise invalid_argument(f"{name}: worker_threads must be at least 1")
        if max_queued_calls < 0:
            raise invalid_argument(f"{name}: max_queued_calls must be zero or more")
        self._name = name
        self._workers = worker_threads
        self._max_calls = worker_threads + max_queued_calls
        # Checked (files read) now, so a bad file fails the constructor.
        self._credentials = server_credentials(tls) if tls else None
        self._server: Optional[grpc.Server] = None
        self._port = 0

    @property
    def started(self) -> bool:
        return self._server is not None

    @property
    def port(self) -> int:
        return self._port

    def start(self, address: str, register: Callable[[grpc.Server], None]) -> int:
        """Binds `address` ("host:port"; port 0 picks one), serves; the port."""
        if self._server is not None:
            raise failed_precondition(f"{self._name} already started")
        server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=self._workers,
                                       thread_name_prefix=self._name.replace(" ", "-")),
            maximum_concurrent_rpcs=self._max_calls)
        register(server)
        try:
            if self._credentials is not None:
                port = server.add_secure_port(address, self._credentials)
            else:
                port = server.add_insecure_port(address)
        except RuntimeError as error:  # newer grpcio raises, older returns 0
            port, cause = 0, error
        else:
            cause = None
        if port == 0:
            why = cause or "address in use or malformed"
            raise TccError(grpc.StatusCode.UNAVAILABLE,
                           f"{self._name}: cannot bind {address!r} ({why}); pick another "
                           "address, or port 0 for a free one")
        server.start()
        self._server, self._port = server, port
        return port

    def shutdown(self, grace_s: float) -> None:
        """Stops accepting calls; waits up to grace_s for calls in flight."""
        if self._server is not None:
            self._server.stop(grace_s).wait()

    def wait(self) -> None:
        if self._server is not None:
            self._server.wait_for_termination()
