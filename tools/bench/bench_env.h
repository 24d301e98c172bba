// What every benchmark command sets up: a scratch directory, the null
// participants, and tccd (started here, or an existing one at --addr). With
// --store postgres (run only): a private PostgreSQL cluster in a directory
// of its own (fsync and synchronous_commit on) and --instances tccd
// processes sharing its database.
// Not thread-safe; owned by one command.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/process/private_postgres.h"
#include "common/process/tccd_process.h"
#include "tcc/common/tls.h"
#include "tools/bench/null_participant.h"
#include "tools/bench/options.h"

namespace tcc::bench {

using ::tcc::process::TccdProcess;

// "machine: nproc N, load average A B C" on stdout: every run says how busy
// the shared machine was.
void PrintMachine();

// A fresh directory under $TMPDIR (or /tmp), removed on destruction unless
// kept.
class ScratchDir {
 public:
  static absl::StatusOr<std::unique_ptr<ScratchDir>> Create(bool keep);
  ~ScratchDir();
  const std::string& path() const { return path_; }
  // Keeps the directory after all (e.g. a failed run's evidence).
  void Keep() { keep_ = true; }

 private:
  ScratchDir(std::string path, bool keep) : path_(std::move(path)), keep_(keep) {}
  std::string path_;
  bool keep_;
};

class BenchEnv {
 public:
  // Starts `participants` null participants and, unless options.addr is
  // set, tccd on options.data (or a fresh file in the scratch dir), or the
  // private cluster and options.instances tccds on it.
  static absl::StatusOr<std::unique_ptr<BenchEnv>> Start(const TccdOptions& options,
                                                         int participants, bool fail_second_phase,
                                                         bool keep);

  // The first (or only) tccd.
  const std::string& coordinator_address() const { return addresses_.front(); }
  // Every tccd instance's address.
  const std::vector<std::string>& coordinator_addresses() const { return addresses_; }
  // For the bench's own channels (to tccd and, for the ceiling, to a null
  // participant): mutual TLS with --tls, plaintext otherwise.
  std::shared_ptr<grpc::ChannelCredentials> channel_credentials() const { return credentials_; }
  std::vector<std::string> participant_targets() const;
  NullParticipant& participant(size_t i) { return *participants_[i]; }
  // Null when tccd runs elsewhere (--addr): no CPU or memory figures then.
  TccdProcess* tccd() { return tccds_.empty() ? nullptr : tccds_.front().get(); }
  // Every instance started here (none with --addr).
  std::vector<TccdProcess*> tccds();
  // The PostgreSQL database the instances share; "" on SQLite.
  std::string postgres_uri() const { return postgres_ ? postgres_->DatabaseUri() : ""; }
  // The PostgreSQL server's postmaster (from its postmaster.pid); 0 on
  // SQLite or when unreadable.
  pid_t postgres_pid() const;
  const std::string& scratch() const { return scratch_->path(); }
  const std::string& data_path() const { return options_.data; }

  void set_tccd_log_level(std::string level) { options_.log_level = std::move(level); }
  // (Re)starts tccd on the same data file (or database: every instance),
  // e.g. after Kill().
  absl::Status StartTccd();

 private:
  // --tls: a throwaway CA in the scratch dir; tccd's flags for it, and
  // the participants' and the bench's TLS settings.
  absl::Status MakePki();
  absl::Status StartPostgres();

  TlsOptions participant_tls_;
  std::shared_ptr<grpc::ChannelCredentials> credentials_ = grpc::InsecureChannelCredentials();
  TccdOptions options_;
  bool scratch_keep_ = false;
  std::unique_ptr<ScratchDir> scratch_;
  std::vector<std::unique_ptr<NullParticipant>> participants_;
  // Destroyed in reverse: the tccds stop, then the server, then its
  // directory goes (the server runs as "postgres" when the bench is root,
  // so its directory is not inside the root-only scratch dir).
  std::unique_ptr<ScratchDir> postgres_dir_;
  std::unique_ptr<::tcc::process::PrivatePostgres> postgres_;
  std::vector<std::unique_ptr<TccdProcess>> tccds_;
  std::vector<std::string> addresses_;
};

}  // namespace tcc::bench
