// Real disk faults for tests that run real processes on real SQLite files:
// a small tmpfs mounted as a data directory (a real full disk, ENOSPC from
// the kernel), a filler that takes its last free byte and gives it back, and
// the environment that loads tests/fault's LD_PRELOAD library (EIO on writes
// and syncs under a directory while a trigger file exists). Plus SQLite's own
// integrity check of a file afterwards.
//
// Mounting needs root (CAP_SYS_ADMIN); the tests run as root. A failure to
// mount is reported, not skipped.
//
// Thread-safety: not thread-safe; one owner thread per object.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace tcc::testing {

// A tmpfs of `bytes` mounted on `dir` (created if missing) for the object's
// lifetime.
class Tmpfs {
 public:
  static absl::StatusOr<std::unique_ptr<Tmpfs>> Mount(const std::string& dir, size_t bytes);
  ~Tmpfs();
  Tmpfs(const Tmpfs&) = delete;
  Tmpfs& operator=(const Tmpfs&) = delete;

  const std::string& dir() const { return dir_; }

  // Writes a file in the mount until the kernel says ENOSPC: the disk is
  // full from then on. Returns the bytes it took.
  absl::StatusOr<size_t> Fill();
  // Deletes what Fill wrote: the space is back.
  absl::Status Free();

 private:
  explicit Tmpfs(std::string dir) : dir_(std::move(dir)) {}
  std::string FillerPath() const { return dir_ + "/filler"; }

  std::string dir_;
};

// Switches real EIO on and off for a process started with env(): every
// write, pwrite, writev, fsync and fdatasync of a file under `dir` (or, with
// `syncs_only`, only every fsync and fdatasync) fails while the trigger file
// exists.
class IoFaults {
 public:
  // `library`: the path of libtcc_io_fault.so; `trigger`: a path outside `dir`.
  IoFaults(std::string library, std::string dir, std::string trigger, bool syncs_only = false);
  ~IoFaults();

  // "NAME=value" entries for the child's environment.
  std::vector<std::string> env() const;
  absl::Status Start();  // creates the trigger
  absl::Status Stop();   // removes it

 private:
  std::string library_, dir_, trigger_;
  bool syncs_only_;
};

// SQLite's "PRAGMA integrity_check" of the file at `path` (opened read-only):
// "ok" when the file is whole, else SQLite's list of what is wrong.
absl::StatusOr<std::string> IntegrityCheck(const std::string& path);

}  // namespace tcc::testing
