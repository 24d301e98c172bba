#!/usr/bin/env bash
# Configures and builds everything into build/ (clang, so that
# -Wthread-safety checks every lock annotation). Extra arguments go to
# cmake's configure step.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${BUILD_DIR:-build}"
JOBS="${JOBS:-$(nproc)}"
# Cache hits across clones in other directories (CI clones afresh).
export CCACHE_BASEDIR="$PWD"
CXX="${CXX:-clang++}" cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build "$BUILD_DIR" -j "$JOBS"
