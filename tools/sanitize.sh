#!/usr/bin/env bash
# Runs the unit and integration tests under ASan+UBSan, and the concurrency
# tests (no gRPC inside, which Debian does not build with TSan) under TSan.
# Each sanitizer has its own build directory. Called by tools/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS="${JOBS:-$(nproc)}"
export CCACHE_BASEDIR="$PWD"

ASAN_TESTS=(coordinator_domain_test coordinator_store_test coordinator_engine_test
            coordinator_daemon_test coordinator_admin_test coordinator_hostile_input_test
            coordinator_crash_test sdk_sqlite_database_test sdk_barrier_test
            sdk_barrier_concurrency_test sdk_decision_fence_test sdk_participant_server_test
            sdk_status_endpoint_test sdk_initiator_client_test sdk_tccd_end_to_end_test
            sdk_back_query_test validation_fuzzer store_records_fuzzer)
TSAN_TESTS=(coordinator_store_test coordinator_engine_test sdk_barrier_concurrency_test
            sdk_decision_fence_test)

# Builds TARGETS... with sanitizer FLAGS in DIR, then runs the ctest tests
# matching REGEX there.
run_sanitized() {
  local dir=$1 flags=$2 regex=$3
  shift 3
  CXX="${CXX:-clang++}" cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Debug \
    -DTCC_SANITIZE="$flags" -DTCC_BUILD_SDK=ON >/dev/null
  cmake --build "$dir" -j "$JOBS" --target tccd "$@"
  (cd "$dir" && ctest --output-on-failure -j "$JOBS" -R "$regex")
}

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
echo "== ASan+UBSan: unit and integration tests"
run_sanitized build-asan address,undefined "^(coordinator_|sdk_|fuzz_)" "${ASAN_TESTS[@]}"

export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1"
echo "== TSan: concurrency tests"
run_sanitized build-tsan thread "^($(IFS='|'; echo "${TSAN_TESTS[*]}"))$" "${TSAN_TESTS[@]}"
