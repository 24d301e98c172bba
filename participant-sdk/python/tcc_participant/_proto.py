"""The generated protobuf and gRPC modules of proto/tcc/v1, imported once.

They are generated at build time (gen_proto.sh; CMake target
tcc_python_proto), never checked in. When they cannot be imported, this
says what to run instead of failing with a bare ModuleNotFoundError.
"""

try:
    from tcc.v1 import coordinator_pb2, coordinator_pb2_grpc
    from tcc.v1 import initiator_pb2, initiator_pb2_grpc
    from tcc.v1 import participant_pb2, participant_pb2_grpc
except ImportError as error:  # pragma: no cover - exercised by hand
    raise ImportError(
        "tcc_participant needs the Python modules generated from proto/tcc/v1 "
        f"({error}). Generate them with `participant-sdk/python/gen_proto.sh OUT_DIR` "
        "(or build the CMake target tcc_python_proto, which writes "
        "build/participant-sdk/python/gen) and put OUT_DIR on PYTHONPATH. "
        "They need Debian's python3-grpcio and python3-protobuf (tools/setup.sh)."
    ) from error

__all__ = [
    "coordinator_pb2",
    "coordinator_pb2_grpc",
    "initiator_pb2",
    "initiator_pb2_grpc",
    "participant_pb2",
    "participant_pb2_grpc",
]
