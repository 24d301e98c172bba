"""TLS for the Python library's clients and servers: PEM files on disk
turned into gRPC credentials, the counterpart of the C++ SDK's TlsOptions.

A client gives ca_file (the coordinator's CA; empty: the system roots) and,
for mutual TLS, cert_file and key_file. A server gives cert_file and
key_file, and with require_client_cert the ca_file its clients' certificates
must chain to (mutual TLS). Unlike the C++ SDK, the files are read once,
when the client or server is made: restart it to pick up a rotated
certificate.

Missing or unreadable files raise TccError(INVALID_ARGUMENT) naming the
file, up front rather than at the first handshake.
"""

import dataclasses
from typing import Optional

import grpc

from .errors import invalid_argument


@dataclasses.dataclass(frozen=True)
class TlsFiles:
    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""
    # Server only: every client must present a certificate chaining to ca_file.
    require_client_cert: bool = False


def _read(path: str, what: str) -> Optional[bytes]:
    if not path:
        return None
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as error:
        raise invalid_argument(f"TLS {what}: cannot read {path!r} ({error.strerror})") from None
    if b"-----BEGIN" not in data:
        raise invalid_argument(f"TLS {what}: {path!r} holds no PEM block")
    return data


def _identity(tls: TlsFiles):
    if bool(tls.cert_file) != bool(tls.key_file):
        raise invalid_argument("TLS: give cert_file and key_file together")
    return _read(tls.cert_file, "cert_file"), _read(tls.key_file, "key_file")


def channel_credentials(tls: TlsFiles) -> grpc.ChannelCredentials:
    """Verifies the server with ca_file; presents cert_file if given."""
    cert, key = _identity(tls)
    return grpc.ssl_channel_credentials(root_certificates=_read(tls.ca_file, "ca_file"),
                                        private_key=key, certificate_chain=cert)


def server_credentials(tls: TlsFiles) -> grpc.ServerCredentials:
    """Serves cert_file; with require_client_cert, verifies clients with ca_file."""
    cert, key = _identity(tls)
    if cert is None:
        raise invalid_argument("TLS server: cert_file and key_file are required")
    if tls.require_client_cert and not tls.ca_file:
        raise invalid_argument("TLS server: require_client_cert needs ca_file")
    return grpc.ssl_server_credentials([(key, cert)],
                                       root_certificates=_read(tls.ca_file, "ca_file"),
                                       require_client_auth=tls.require_client_cert)
