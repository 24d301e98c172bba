#!/usr/bin/env bash
# The main job: installs what is missing, builds, starts tccd on its
# embedded SQLite default (data in ./tccd-data) and runs the TCC demo
# against it, then stops tccd cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
tools/build.sh
BIN="${BUILD_DIR:-build}"
PORT_FILE="$(mktemp -u /tmp/tccd-port.XXXXXX)"
"$BIN/coordinator/tccd" --listen=127.0.0.1:0 --port_file="$PORT_FILE" --log_level=warn &
TCCD_PID=$!
trap 'kill -TERM $TCCD_PID 2>/dev/null; wait $TCCD_PID 2>/dev/null; rm -f "$PORT_FILE"' EXIT
for _ in $(seq 1 200); do [ -s "$PORT_FILE" ] && break; sleep 0.05; done
[ -s "$PORT_FILE" ] || { echo "demo: tccd did not start" >&2; exit 1; }
echo "tccd running (pid $TCCD_PID) on 127.0.0.1:$(cat "$PORT_FILE"), data in tccd-data/tccd.db"
"$BIN/examples/tcc-demo/tcc_demo" --coordinator="127.0.0.1:$(cat "$PORT_FILE")"
