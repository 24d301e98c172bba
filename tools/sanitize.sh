#!/usr/bin/env bash
# Runs the unit and integration tests under ASan+UBSan in build-asan/, then
# the concurrency-heavy ones under TSan in build-tsan/. Called by
# tools/test.sh. TCC_SANITIZE_STAGES picks the stages (default "asan tsan"):
# TCC_SANITIZE_STAGES=tsan tools/sanitize.sh runs the TSan stage alone.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS="${JOBS:-$(nproc)}"
STAGES="${TCC_SANITIZE_STAGES:-asan tsan}"
for stage in $STAGES; do
  case "$stage" in
    asan | tsan) ;;
    *) echo "TCC_SANITIZE_STAGES: unknown stage '$stage' (known: asan tsan)" >&2; exit 2 ;;
  esac
done
export CCACHE_BASEDIR="$PWD"

ASAN_TESTS=(coordinator_domain_test coordinator_store_test coordinator_engine_test
            coordinator_daemon_test coordinator_admin_test coordinator_hostile_input_test
            coordinator_crash_test sdk_sqlite_database_test sdk_barrier_test
            sdk_barrier_concurrency_test sdk_decision_fence_test sdk_participant_server_test
            sdk_status_endpoint_test sdk_initiator_client_test sdk_tccd_end_to_end_test
            sdk_back_query_test sdk_sqlite_group_commit_test sdk_saga_client_test
            validation_fuzzer store_records_fuzzer common_sqlite_status_test
            coordinator_retention_crash_test common_metrics_test common_http_test
            coordinator_metrics_http_test coordinator_tccd_flags_test
            coordinator_postgres_daemon_test coordinator_postgres_takeover_test
            coordinator_disk_fault_test sdk_disk_fault_test
            coordinator_postgres_restart_test
            sdk_barrier_pruning_test sdk_decision_pruning_test coordinator_transport_test
            sdk_pruner_test tcc_python_proto common_tls_test coordinator_tls_test
            sdk_tls_end_to_end_test sdk_run_transaction_test
            sdk_serve_until_signal_test sdk_serve_child coordinator_auth_test
            coordinator_dashboard_api_test common_mutex_test common_server_stop_test)

# Not run under ASan (kept out of its build too), so that tools/test.sh stays
# within its 30-minute budget on 2 cores with the TSan stage: each drives
# real processes (kill -9 and restarts, PostgreSQL restarts, flags, signals)
# through code whose memory handling the in-process tests above already
# cover under ASan; the retention crash test alone took 94 s under ASan.
# They still run in the plain build.
ASAN_SKIPPED=(coordinator_retention_crash_test coordinator_postgres_restart_test
              coordinator_postgres_takeover_test coordinator_tccd_flags_test
              sdk_serve_until_signal_test sdk_serve_child)

# Builds TARGETS... with sanitizer FLAGS in DIR, then runs the ctest tests
# matching REGEX there, except those matching EXCLUDE.
run_sanitized() {
  local dir=$1 flags=$2 regex=$3 exclude=$4
  shift 4
  # Line tables only: the reports' stacks need file and line, not the
  # variables' debug info, which is a tenth of every compile.
  CXX="${CXX:-clang++}" cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_CXX_FLAGS_DEBUG="-O0 -gline-tables-only" \
    -DTCC_SANITIZE="$flags" -DTCC_BUILD_SDK=ON >/dev/null
  cmake --build "$dir" -j "$JOBS" --target "$@"
  (cd "$dir" && ctest --output-on-failure -j "$JOBS" -R "$regex" -E "$exclude")
}

# The words of LIST (one string) that are not in SKIP (another).
without() {
  local word
  for word in $1; do [[ " $2 " == *" $word "* ]] || echo "$word"; done
}

# ^(a|b|c)$ for the words given.
exactly() { echo "^($(IFS='|'; echo "$*"))\$"; }

# Whether STAGE is among the stages to run.
wanted() { [[ " $STAGES " == *" $1 "* ]]; }

if wanted asan; then
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
  echo "== ASan+UBSan: unit and integration tests"
  mapfile -t asan_built < <(without "${ASAN_TESTS[*]}" "${ASAN_SKIPPED[*]}")
  run_sanitized build-asan address,undefined "^(coordinator_|sdk_|fuzz_|common_)" \
    "$(exactly "${ASAN_SKIPPED[@]}")" tccd "${asan_built[@]}"
fi

# TSan. Our code locks with tcc::Mutex (common/include/tcc/common/mutex.h),
# which is std::mutex and std::condition_variable underneath, so TSan sees
# every lock and wait. Debian's Abseil and gRPC are not built with TSan:
# their own synchronization (absl::Mutex, atomics) stays invisible, which is
# why our code must not use Abseil's Mutex, CondVar, Notification or
# BlockingCounter. tools/tsan.supp suppresses only what those libraries'
# invisible synchronization causes (today: absl::Status's reference count),
# each entry with the report that made it necessary; a race in our code is
# never suppressed but fixed. Any report fails the test (halt_on_error).
# Not tests that start real gRPC servers (common_server_stop_test tried):
# uninstrumented gRPC hands file descriptors and memory between its threads
# in ways TSan reports as races (epoll_wait against epoll_create1, Abseil's
# deadlock graph), which would only be noise to suppress.
TSAN_TESTS=(common_mutex_test coordinator_store_test coordinator_engine_test
            sdk_sqlite_group_commit_test sdk_barrier_concurrency_test)
if wanted tsan; then
  export TSAN_OPTIONS="halt_on_error=1:abort_on_error=1:second_deadlock_stack=1:suppressions=$PWD/tools/tsan.supp"
  echo "== TSan: concurrency-heavy tests"
  run_sanitized build-tsan thread "$(exactly "${TSAN_TESTS[@]}")" '^$' "${TSAN_TESTS[@]}"
fi
