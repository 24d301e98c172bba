#!/usr/bin/env bash
# The test command: installs what is missing, builds, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
tools/build.sh
(cd "${BUILD_DIR:-build}" && ctest --output-on-failure -j "${JOBS:-$(nproc)}" --timeout 600)
# Sanitizer runs (ASan+UBSan, TSan); TCC_SKIP_SANITIZERS=1 skips them locally.
if [ "${TCC_SKIP_SANITIZERS:-0}" != 1 ]; then tools/sanitize.sh; fi
