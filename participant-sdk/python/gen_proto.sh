#!/usr/bin/env bash
# Generates the Python message and gRPC stub modules (tcc/v1/*_pb2.py,
# *_pb2_grpc.py) from the project's .proto files into OUT_DIR, which then
# goes on PYTHONPATH next to participant-sdk/python. Nothing generated is
# checked in: CMake runs this into build/participant-sdk/python/gen (target
# tcc_python_proto), and you may run it by hand:
#
#   participant-sdk/python/gen_proto.sh /tmp/tcc-gen
#   PYTHONPATH=participant-sdk/python:/tmp/tcc-gen python3 -c 'import tcc_participant'
#
# Needs Debian's protobuf-compiler (protoc) and protobuf-compiler-grpc
# (grpc_python_plugin); PROTOC and GRPC_PYTHON_PLUGIN override their paths.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 OUT_DIR" >&2
  exit 2
fi
out_dir=$1
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
proto_root=$(cd "$here/../../proto" && pwd)
protoc=${PROTOC:-protoc}
plugin=${GRPC_PYTHON_PLUGIN:-/usr/bin/grpc_python_plugin}

if ! command -v "$protoc" >/dev/null; then
  echo "gen_proto.sh: protoc not found; install Debian's protobuf-compiler (tools/setup.sh) or set PROTOC" >&2
  exit 1
fi
if [ ! -x "$plugin" ]; then
  echo "gen_proto.sh: $plugin not found; install Debian's protobuf-compiler-grpc or set GRPC_PYTHON_PLUGIN" >&2
  exit 1
fi

mkdir -p "$out_dir"
"$protoc" -I "$proto_root" \
  --python_out="$out_dir" \
  --plugin=protoc-gen-grpc_python="$plugin" --grpc_python_out="$out_dir" \
  "$proto_root"/tcc/v1/*.proto
