// A SQLite VFS for tests that forwards everything to the default VFS and,
// while armed, fails every write of a WAL file with the error Arm was given
// (an I/O error unless told otherwise) and every sync with an I/O error.
// In WAL mode a transaction's pages reach the WAL only at COMMIT, so arming
// it makes the COMMIT itself fail, the way a full or failing disk would.
//
// Thread-safety: Arm and Disarm may be called from any thread; connections
// opened while a FailingWalVfs is alive use it (it is the default VFS for
// that long), so close them before it goes away. One at a time per process.
#pragma once

namespace tcc::sdk::testing {

class FailingWalVfs {
 public:
  static constexpr int kIoError = 778;  // SQLITE_IOERR_WRITE, without sqlite3.h

  FailingWalVfs();
  ~FailingWalVfs();
  FailingWalVfs(const FailingWalVfs&) = delete;
  FailingWalVfs& operator=(const FailingWalVfs&) = delete;

  // error: what a WAL write returns, e.g. SQLITE_FULL for a full disk.
  void Arm(int error = kIoError);
  void Disarm();
  // WAL writes and syncs failed since construction.
  int failures() const;
};

}  // namespace tcc::sdk::testing
