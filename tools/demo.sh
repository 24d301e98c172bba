#!/usr/bin/env bash
# The main job: installs what is missing, builds, then runs the points-payment
# flow. The launcher starts tccd (on its embedded SQLite store) and the
# points, pay-log and order services as separate processes on free local
# ports, drives 1,000 payments (with refunds and duplicated requests), stops
# everything and runs the invariant checker. Arguments go to the launcher,
# e.g. tools/demo.sh --faults, or --help.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
tools/build.sh
exec "${BUILD_DIR:-build}/examples/points-pay/points_pay" "$@"
