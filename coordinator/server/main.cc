// tccd: the coordinator daemon. Runs with no arguments on sensible
// defaults; every setting is a flag, and --flagfile=FILE reads them from a
// config file (one --flag=value per line).
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/synchronization/mutex.h"
#include "common/build_info/build_info.h"
#include "coordinator/server/daemon.h"
#include "tcc/common/logging.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:7420",
          "Address to serve the coordinator API on (host:port; port 0 picks a free one). "
          "Loopback by default. A non-loopback address needs --tls_cert/--tls_key (or "
          "--insecure).");
ABSL_FLAG(std::string, tls_cert, "",
          "TLS on --listen: PEM certificate chain (with --tls_key). Re-read every "
          "--tls_refresh_s, so a rotated certificate needs no restart.");
ABSL_FLAG(std::string, tls_key, "", "TLS on --listen: PEM private key of --tls_cert.");
ABSL_FLAG(std::string, tls_client_ca, "",
          "Mutual TLS: PEM CA bundle; every client must present a certificate that chains to "
          "it. Needs --tls_cert/--tls_key.");
ABSL_FLAG(bool, insecure, false,
          "Allow --listen on a non-loopback address without TLS (logged as a warning): only "
          "behind a firewall. Anyone who reaches the port can decide any transaction (unless "
          "--auth_file), and tokens cross the network in the clear.");
ABSL_FLAG(bool, allow_insecure, false, "Old name of --insecure (kept as an alias).");
ABSL_FLAG(std::string, auth_file, "",
          "Who may do what: a JSON file of callers (certificate identities and/or SHA-256 "
          "hashes of bearer tokens) and their roles (initiator, viewer, operator); see the "
          "README's Security section. Re-read on SIGHUP. Unset: authorization off, every "
          "caller that reaches the port may do everything.");
ABSL_FLAG(bool, hash_token, false,
          "Print the SHA-256 hex of the token read from stdin (for --auth_file's token_sha256) "
          "and exit.");
ABSL_FLAG(int64_t, tls_refresh_s, 60,
          "How often every TLS file (server and participant side) is re-read, in seconds.");
ABSL_FLAG(std::string, participant_ca, "",
          "PEM CA bundle to verify participants and status endpoints with: set, tccd calls "
          "every target over TLS (except --participant_tls_overrides lines); unset, plaintext.");
ABSL_FLAG(std::string, participant_cert, "",
          "Client certificate (PEM, with --participant_key) tccd presents to participants and "
          "status endpoints that require mutual TLS.");
ABSL_FLAG(std::string, participant_key, "", "PEM private key of --participant_cert.");
ABSL_FLAG(std::string, participant_tls_overrides, "",
          "File of per-target TLS settings, one line each: \"HOST:PORT ca=FILE [cert=FILE "
          "key=FILE]\" or \"HOST:PORT plaintext\"; a line replaces the defaults for that target.");
ABSL_FLAG(bool, participant_tls_required, false,
          "Refuse to start if some target could be called in plaintext: needs --participant_ca "
          "and no plaintext override.");
ABSL_FLAG(std::string, data, "",
          "SQLite database file (created if missing); tccd-data/tccd.db when neither --data nor "
          "--store is given.");
ABSL_FLAG(std::string, store, "",
          "PostgreSQL instead of SQLite: a libpq URI, postgresql://user:password@host:port/db "
          "(several hosts: postgresql://h1:5432,h2:5432/db?target_session_attrs=read-write). "
          "Not together with --data.");
ABSL_FLAG(int64_t, ownership_lease_ms, 4000,
          "With --store, several tccd instances may share the database: an instance whose "
          "heartbeat (on the database's clock, refreshed every lease/4) is older than this is "
          "dead, and the others take over its transactions within lease + lease/4.");
ABSL_FLAG(std::string, sync, "full",
          "SQLite synchronous mode: full (durable, default), normal or off (benchmarks only).");
ABSL_FLAG(int64_t, default_timeout_ms, 30000,
          "How long a transaction may stay TRYING when Begin gives no timeout.");
ABSL_FLAG(int64_t, call_timeout_ms, 5000, "Deadline of one participant call.");
ABSL_FLAG(int32_t, batch_max, 128,
          "Most Confirms (or Cancels) sent to one participant in one batch call, when they queue "
          "up; 1 sends every call alone. A participant without the batch service gets them one by "
          "one anyway.");
ABSL_FLAG(int32_t, batch_in_flight, 8,
          "Calls outstanding to one participant (per phase) before further Confirms / Cancels "
          "wait to go as a batch.");
ABSL_FLAG(int64_t, retry_initial_ms, 100, "First retry delay of Confirm / Cancel.");
ABSL_FLAG(int64_t, retry_max_ms, 30000, "Upper bound of the retry delay.");
ABSL_FLAG(double, retry_multiplier, 2.0, "Growth factor of the retry delay.");
ABSL_FLAG(double, retry_jitter, 0.5, "Randomized fraction of each delay (0..1).");
ABSL_FLAG(uint32_t, stuck_after_attempts, 10,
          "Flag a transaction as stuck once a branch failed this many times.");
ABSL_FLAG(int64_t, stuck_after_s, 300, "Flag a transaction as stuck once it is this old.");
ABSL_FLAG(uint32_t, max_payload_bytes, 1 << 20, "Largest branch payload accepted.");
ABSL_FLAG(uint32_t, max_branches, 64, "Most branches one transaction may have.");
ABSL_FLAG(uint64_t, max_pending_writes, 200000,
          "Store operations that may wait for disk before requests get RESOURCE_EXHAUSTED.");
ABSL_FLAG(int64_t, retention_s, 7 * 24 * 3600,
          "Delete finished transactions (branches and timeline too) this long after they "
          "finished; 0 keeps everything. Unfinished ones are never deleted.");
ABSL_FLAG(std::string, archive_dir, "",
          "If set, retention first appends the transactions it deletes to gzip JSON-lines files "
          "here (one per day of their last update), fsynced before the rows go.");
ABSL_FLAG(std::string, log_level, "info", "trace, debug, info, warn, error or off.");
ABSL_FLAG(std::string, port_file, "", "If set, write the bound port to this file once serving.");
ABSL_FLAG(std::string, http_listen, "127.0.0.1:0",
          "Address of the HTTP port for /metrics (Prometheus), /healthz and /readyz (host:port; "
          "port 0 picks a free one, logged and written to --http_port_file). Set a fixed port "
          "for Prometheus and probes; empty: no HTTP port.");
ABSL_FLAG(bool, http_insecure, false,
          "Allow --http_listen on a non-loopback address. The HTTP port has neither TLS nor "
          "authentication yet: only behind a firewall or a proxy that adds them.");
ABSL_FLAG(bool, http_allow_insecure, false, "Old name of --http_insecure (kept as an alias).");
ABSL_FLAG(bool, metrics, true,
          "Record metrics for /metrics. Turn off only to measure what they cost on the hot path "
          "(tools/bench/metrics_cost.sh): /metrics then answers 404.");
ABSL_FLAG(std::string, http_port_file, "",
          "If set, write the bound HTTP port to this file once serving.");

namespace {

absl::StatusOr<tcc::SyncMode> ParseSync(const std::string& value) {
  if (value == "full") return tcc::SyncMode::kFull;
  if (value == "normal") return tcc::SyncMode::kNormal;
  if (value == "off") return tcc::SyncMode::kOff;
  return absl::InvalidArgumentError("--sync must be full, normal or off, not \"" + value + "\"");
}

// --data (SQLite, the default) or --store (PostgreSQL), never both.
absl::Status SelectStore(tcc::DaemonConfig& config) {
  std::string data = absl::GetFlag(FLAGS_data);
  std::string store = absl::GetFlag(FLAGS_store);
  if (!data.empty() && !store.empty()) {
    return absl::InvalidArgumentError(
        "--data and --store both given: --data selects a SQLite file, --store a PostgreSQL "
        "database; give one of them");
  }
  if (store.empty()) {
    if (!data.empty()) config.data_path = data;  // Else the default path.
    return absl::OkStatus();
  }
  if (!absl::StartsWith(store, "postgresql://") && !absl::StartsWith(store, "postgres://")) {
    return absl::InvalidArgumentError(
        "--store takes a PostgreSQL URI starting with postgresql:// (e.g. "
        "postgresql://tccd@db.example:5432/tcc)");
  }
  if (absl::GetFlag(FLAGS_sync) != "full") {
    return absl::InvalidArgumentError(
        "--sync applies to the SQLite store only; with --store, durability is the server's "
        "synchronous_commit (keep it on)");
  }
  config.store_uri = store;
  return absl::OkStatus();
}

absl::StatusOr<absl::Duration> TlsRefresh() {
  int64_t seconds = absl::GetFlag(FLAGS_tls_refresh_s);
  if (seconds < 1) {
    return absl::InvalidArgumentError("--tls_refresh_s must be at least 1 (seconds)");
  }
  return absl::Seconds(seconds);
}

absl::Status TlsFromFlags(tcc::DaemonConfig& config) {
  absl::StatusOr<absl::Duration> refresh = TlsRefresh();
  if (!refresh.ok()) return refresh.status();
  config.tls = {.cert_file = absl::GetFlag(FLAGS_tls_cert),
                .key_file = absl::GetFlag(FLAGS_tls_key),
                .ca_file = absl::GetFlag(FLAGS_tls_client_ca),
                .require_client_cert = !absl::GetFlag(FLAGS_tls_client_ca).empty(),
                .refresh_interval = *refresh,
                .names = {"--tls_cert", "--tls_key", "--tls_client_ca"}};
  config.insecure = absl::GetFlag(FLAGS_insecure) || absl::GetFlag(FLAGS_allow_insecure);
  tcc::ParticipantTlsConfig& participants = config.participant_tls;
  participants.defaults = {
      .cert_file = absl::GetFlag(FLAGS_participant_cert),
      .key_file = absl::GetFlag(FLAGS_participant_key),
      .ca_file = absl::GetFlag(FLAGS_participant_ca),
      .refresh_interval = *refresh,
      .names = {"--participant_cert", "--participant_key", "--participant_ca"}};
  participants.overrides_file = absl::GetFlag(FLAGS_participant_tls_overrides);
  participants.required = absl::GetFlag(FLAGS_participant_tls_required);
  return absl::OkStatus();
}

absl::StatusOr<tcc::DaemonConfig> ConfigFromFlags() {
  tcc::DaemonConfig config;
  config.listen = absl::GetFlag(FLAGS_listen);
  if (absl::Status tls = TlsFromFlags(config); !tls.ok()) return tls;
  config.http_listen = absl::GetFlag(FLAGS_http_listen);
  config.http_allow_insecure =
      absl::GetFlag(FLAGS_http_insecure) || absl::GetFlag(FLAGS_http_allow_insecure);
  config.metrics = absl::GetFlag(FLAGS_metrics);
  config.auth_file = absl::GetFlag(FLAGS_auth_file);
  absl::Status store = SelectStore(config);
  if (!store.ok()) return store;
  absl::StatusOr<tcc::SyncMode> sync = ParseSync(absl::GetFlag(FLAGS_sync));
  if (!sync.ok()) return sync.status();
  config.sync = *sync;
  if (absl::GetFlag(FLAGS_ownership_lease_ms) < 100) {
    return absl::InvalidArgumentError("--ownership_lease_ms must be at least 100 (milliseconds)");
  }
  config.ownership.lease = absl::Milliseconds(absl::GetFlag(FLAGS_ownership_lease_ms));
  tcc::EngineOptions& engine = config.engine;
  engine.default_timeout = absl::Milliseconds(absl::GetFlag(FLAGS_default_timeout_ms));
  engine.call_timeout = absl::Milliseconds(absl::GetFlag(FLAGS_call_timeout_ms));
  engine.retry.initial_backoff = absl::Milliseconds(absl::GetFlag(FLAGS_retry_initial_ms));
  engine.retry.max_backoff = absl::Milliseconds(absl::GetFlag(FLAGS_retry_max_ms));
  engine.retry.multiplier = absl::GetFlag(FLAGS_retry_multiplier);
  engine.retry.jitter = absl::GetFlag(FLAGS_retry_jitter);
  engine.stuck.attempts = absl::GetFlag(FLAGS_stuck_after_attempts);
  engine.stuck.age_ms = absl::GetFlag(FLAGS_stuck_after_s) * 1000;
  engine.limits.max_payload_bytes = absl::GetFlag(FLAGS_max_payload_bytes);
  if (absl::GetFlag(FLAGS_batch_max) < 1 || absl::GetFlag(FLAGS_batch_in_flight) < 1) {
    return absl::InvalidArgumentError(
        "--batch_max and --batch_in_flight must be at least 1 (--batch_max=1 turns batches off)");
  }
  config.batching = {.max_in_flight = absl::GetFlag(FLAGS_batch_in_flight),
                     .max_batch = absl::GetFlag(FLAGS_batch_max)};
  engine.limits.max_branches_per_transaction = absl::GetFlag(FLAGS_max_branches);
  config.queue.max_pending = absl::GetFlag(FLAGS_max_pending_writes);
  if (absl::GetFlag(FLAGS_retention_s) < 0) {
    return absl::InvalidArgumentError(
        "--retention_s must be 0 (keep everything) or a number of seconds");
  }
  config.retention.retention = absl::Seconds(absl::GetFlag(FLAGS_retention_s));
  // A look every minute, or every tenth of a shorter window, so that what is
  // stored stays within ~10% of one window's worth.
  config.retention.interval =
      std::clamp(config.retention.retention / 10, absl::Seconds(1), absl::Minutes(1));
  config.archive_dir = absl::GetFlag(FLAGS_archive_dir);
  if (engine.retry.multiplier < 1.0 || engine.retry.initial_backoff <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--retry_multiplier must be >= 1 and --retry_initial_ms > 0");
  }
  return config;
}

// Blocks SIGTERM, SIGINT and SIGHUP in every thread (threads inherit the
// mask) so that main can wait for them synchronously.
sigset_t BlockSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

// Readers (tests, tools) never see a half-written file: written aside, then
// renamed. Nothing to do without a path.
void WritePortFile(const std::string& path, int port) {
  if (path.empty()) return;
  std::string temp = path + ".tmp";
  std::ofstream(temp) << port << "\n";
  std::rename(temp.c_str(), path.c_str());
}

// --hash_token: the token from stdin (one line; surrounding whitespace
// dropped) to the hex SHA-256 the auth file stores. The token itself is
// never echoed.
int HashTokenFromStdin() {
  std::string token(std::istreambuf_iterator<char>(std::cin), {});
  token = std::string(absl::StripAsciiWhitespace(token));
  if (token.empty()) {
    std::fprintf(stderr, "tccd --hash_token: no token on stdin (e.g. tccd --hash_token < FILE)\n");
    return 2;
  }
  std::printf("%s\n", tcc::HashToken(token).c_str());
  return 0;
}

// Until SIGTERM or SIGINT; SIGHUP re-reads the auth file.
void WaitForStop(const sigset_t& signals, tcc::Daemon& daemon) {
  while (true) {
    int received = 0;
    sigwait(&signals, &received);
    if (received != SIGHUP) {
      spdlog::info("received signal {}", received);
      return;
    }
    spdlog::info("SIGHUP: re-reading the auth file");
    daemon.ReloadAuth().IgnoreError();  // Logged; the previous policy stays.
  }
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "the TCC and saga transaction coordinator daemon.\n"
      "Usage: tccd [--data=FILE] [--listen=HOST:PORT] [flags...]; --helpfull lists every flag.");
  // --help lists tccd's own flags (those defined in this file), not only
  // those of a file named after the binary; --version says which build.
  absl::FlagsUsageConfig usage;
  usage.contains_help_flags = [](absl::string_view path) {
    return absl::StrContains(path, "coordinator/server/");
  };
  usage.contains_helpshort_flags = usage.contains_help_flags;
  usage.version_string = [] { return tcc::build_info::VersionLine("tccd") + "\n"; };
  absl::SetFlagsUsageConfig(usage);
  absl::ParseCommandLine(argc, argv);
  // Debian's Abseil is a debug build: its Mutex otherwise records every lock
  // in a global graph to detect deadlocks, ~5% of tccd's CPU under load.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  spdlog::set_level(spdlog::level::from_str(absl::GetFlag(FLAGS_log_level)));
  if (absl::GetFlag(FLAGS_hash_token)) return HashTokenFromStdin();
  sigset_t signals = BlockSignals();

  absl::StatusOr<tcc::DaemonConfig> config = ConfigFromFlags();
  if (!config.ok()) {
    std::fprintf(stderr, "tccd: %s\n", std::string(config.status().message()).c_str());
    return 2;
  }
  absl::StatusOr<std::unique_ptr<tcc::Daemon>> daemon = tcc::Daemon::Start(std::move(*config));
  if (!daemon.ok()) {
    spdlog::critical("tccd cannot start: {}", daemon.status().ToString());
    return 1;
  }
  // HTTP first: whoever waits for the gRPC port file may then read both.
  if ((*daemon)->http_port() != 0) {
    WritePortFile(absl::GetFlag(FLAGS_http_port_file), (*daemon)->http_port());
  }
  WritePortFile(absl::GetFlag(FLAGS_port_file), (*daemon)->port());
  WaitForStop(signals, **daemon);
  (*daemon)->Shutdown();
  return 0;
}
