#include "tests/test_util/disk_faults.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>

#include "absl/strings/str_cat.h"

namespace tcc::testing {
namespace {

absl::Status Errno(absl::string_view what) {
  return absl::InternalError(absl::StrCat(what, ": ", strerror(errno)));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Tmpfs>> Tmpfs::Mount(const std::string& dir, size_t bytes) {
  std::filesystem::create_directories(dir);
  std::string options = absl::StrCat("size=", bytes);
  if (mount("tmpfs", dir.c_str(), "tmpfs", 0, options.c_str()) != 0) {
    return Errno(absl::StrCat("mount -t tmpfs -o ", options, " tmpfs ", dir,
                              " (the disk fault tests run as root)"));
  }
  return std::unique_ptr<Tmpfs>(new Tmpfs(dir));
}

Tmpfs::~Tmpfs() {
  // MNT_DETACH: a child that still holds a file open must not keep it mounted.
  umount2(dir_.c_str(), MNT_DETACH);
}

absl::StatusOr<size_t> Tmpfs::Fill() {
  int fd = open(FillerPath().c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  if (fd < 0) return Errno(absl::StrCat("open ", FillerPath()));
  static const std::string kChunk(4096, 'x');
  size_t taken = 0;
  while (true) {
    ssize_t n = write(fd, kChunk.data(), kChunk.size());
    if (n > 0) {
      taken += static_cast<size_t>(n);
      continue;
    }
    int error = errno;
    close(fd);
    if (n < 0 && error == ENOSPC) return taken;
    errno = error;
    return Errno(absl::StrCat("write ", FillerPath()));
  }
}

absl::Status Tmpfs::Free() {
  if (unlink(FillerPath().c_str()) != 0) return Errno(absl::StrCat("unlink ", FillerPath()));
  return absl::OkStatus();
}

IoFaults::IoFaults(std::string library, std::string dir, std::string trigger, bool syncs_only)
    : library_(std::move(library)),
      dir_(std::move(dir)),
      trigger_(std::move(trigger)),
      syncs_only_(syncs_only) {}

IoFaults::~IoFaults() { unlink(trigger_.c_str()); }

std::vector<std::string> IoFaults::env() const {
  // ASan wants its runtime first in the library list; the preload comes
  // before it in a sanitized child, which is harmless here.
  return {absl::StrCat("LD_PRELOAD=", library_), absl::StrCat("TCC_IO_FAULT_DIR=", dir_),
          absl::StrCat("TCC_IO_FAULT_TRIGGER=", trigger_),
          absl::StrCat("TCC_IO_FAULT_CALLS=", syncs_only_ ? "sync" : "all"),
          "ASAN_OPTIONS=verify_asan_link_order=0"};
}

absl::Status IoFaults::Start() {
  std::ofstream(trigger_) << "EIO\n";
  if (access(trigger_.c_str(), F_OK) != 0) return Errno(absl::StrCat("create ", trigger_));
  return absl::OkStatus();
}

absl::Status IoFaults::Stop() {
  if (unlink(trigger_.c_str()) != 0) return Errno(absl::StrCat("unlink ", trigger_));
  return absl::OkStatus();
}

absl::StatusOr<std::string> IntegrityCheck(const std::string& path) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr);
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> db(raw, sqlite3_close);
  if (rc != SQLITE_OK) return absl::InternalError(absl::StrCat("open ", path, ": ", rc));
  sqlite3_stmt* raw_stmt = nullptr;
  rc = sqlite3_prepare_v2(raw, "PRAGMA integrity_check", -1, &raw_stmt, nullptr);
  std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> stmt(raw_stmt, sqlite3_finalize);
  if (rc != SQLITE_OK) return absl::InternalError(sqlite3_errmsg(raw));
  std::string report;
  while ((rc = sqlite3_step(raw_stmt)) == SQLITE_ROW) {
    if (!report.empty()) report += "\n";
    report += reinterpret_cast<const char*>(sqlite3_column_text(raw_stmt, 0));
  }
  if (rc != SQLITE_DONE) return absl::InternalError(sqlite3_errmsg(raw));
  return report;
}

}  // namespace tcc::testing
