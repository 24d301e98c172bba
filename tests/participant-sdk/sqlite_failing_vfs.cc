#include "tests/participant-sdk/sqlite_failing_vfs.h"

#include <sqlite3.h>

#include <atomic>
#include <cstdlib>

namespace tcc::sdk::testing {
static_assert(FailingWalVfs::kIoError == SQLITE_IOERR_WRITE);

namespace {

std::atomic<bool> armed_now{false};
std::atomic<int> write_error{SQLITE_IOERR_WRITE};
std::atomic<int> failure_count{0};
sqlite3_vfs* real_vfs = nullptr;
sqlite3_vfs shim_vfs;

// The real file lives in the bytes right after this header (szOsFile).
struct ShimFile {
  sqlite3_file base;
  sqlite3_file* real;
  bool is_wal;
};

sqlite3_file* Real(sqlite3_file* file) { return reinterpret_cast<ShimFile*>(file)->real; }

bool FailsNow(sqlite3_file* file) {
  if (!reinterpret_cast<ShimFile*>(file)->is_wal || !armed_now.load()) return false;
  failure_count.fetch_add(1);
  return true;
}

int Close(sqlite3_file* f) { return Real(f)->pMethods->xClose(Real(f)); }
int Read(sqlite3_file* f, void* buf, int n, sqlite3_int64 off) {
  return Real(f)->pMethods->xRead(Real(f), buf, n, off);
}
int Write(sqlite3_file* f, const void* buf, int n, sqlite3_int64 off) {
  if (FailsNow(f)) return write_error.load();
  return Real(f)->pMethods->xWrite(Real(f), buf, n, off);
}
int Truncate(sqlite3_file* f, sqlite3_int64 size) {
  return Real(f)->pMethods->xTruncate(Real(f), size);
}
int Sync(sqlite3_file* f, int flags) {
  if (FailsNow(f)) return SQLITE_IOERR_FSYNC;
  return Real(f)->pMethods->xSync(Real(f), flags);
}
int FileSize(sqlite3_file* f, sqlite3_int64* size) {
  return Real(f)->pMethods->xFileSize(Real(f), size);
}
int Lock(sqlite3_file* f, int level) { return Real(f)->pMethods->xLock(Real(f), level); }
int Unlock(sqlite3_file* f, int level) { return Real(f)->pMethods->xUnlock(Real(f), level); }
int CheckReservedLock(sqlite3_file* f, int* out) {
  return Real(f)->pMethods->xCheckReservedLock(Real(f), out);
}
int FileControl(sqlite3_file* f, int op, void* arg) {
  return Real(f)->pMethods->xFileControl(Real(f), op, arg);
}
int SectorSize(sqlite3_file* f) { return Real(f)->pMethods->xSectorSize(Real(f)); }
int DeviceCharacteristics(sqlite3_file* f) {
  return Real(f)->pMethods->xDeviceCharacteristics(Real(f));
}
int ShmMap(sqlite3_file* f, int region, int size, int extend, void volatile** out) {
  return Real(f)->pMethods->xShmMap(Real(f), region, size, extend, out);
}
int ShmLock(sqlite3_file* f, int offset, int n, int flags) {
  return Real(f)->pMethods->xShmLock(Real(f), offset, n, flags);
}
void ShmBarrier(sqlite3_file* f) { Real(f)->pMethods->xShmBarrier(Real(f)); }
int ShmUnmap(sqlite3_file* f, int delete_flag) {
  return Real(f)->pMethods->xShmUnmap(Real(f), delete_flag);
}
int Fetch(sqlite3_file* f, sqlite3_int64 off, int n, void** out) {
  return Real(f)->pMethods->xFetch(Real(f), off, n, out);
}
int Unfetch(sqlite3_file* f, sqlite3_int64 off, void* p) {
  return Real(f)->pMethods->xUnfetch(Real(f), off, p);
}

// Version 3, as the unix VFS's own files: WAL needs the shm methods.
const sqlite3_io_methods kShimMethods = {
    .iVersion = 3,
    .xClose = Close,
    .xRead = Read,
    .xWrite = Write,
    .xTruncate = Truncate,
    .xSync = Sync,
    .xFileSize = FileSize,
    .xLock = Lock,
    .xUnlock = Unlock,
    .xCheckReservedLock = CheckReservedLock,
    .xFileControl = FileControl,
    .xSectorSize = SectorSize,
    .xDeviceCharacteristics = DeviceCharacteristics,
    .xShmMap = ShmMap,
    .xShmLock = ShmLock,
    .xShmBarrier = ShmBarrier,
    .xShmUnmap = ShmUnmap,
    .xFetch = Fetch,
    .xUnfetch = Unfetch,
};

int Open(sqlite3_vfs*, const char* name, sqlite3_file* file, int flags, int* out_flags) {
  auto* shim = reinterpret_cast<ShimFile*>(file);
  shim->real = reinterpret_cast<sqlite3_file*>(shim + 1);
  shim->is_wal = (flags & SQLITE_OPEN_WAL) != 0;
  int rc = real_vfs->xOpen(real_vfs, name, shim->real, flags, out_flags);
  // SQLite closes a file only when xOpen left pMethods set.
  shim->base.pMethods = shim->real->pMethods != nullptr ? &kShimMethods : nullptr;
  return rc;
}

}  // namespace

FailingWalVfs::FailingWalVfs() {
  real_vfs = sqlite3_vfs_find(nullptr);
  shim_vfs = *real_vfs;
  shim_vfs.zName = "tcc-failing-wal";
  shim_vfs.szOsFile = static_cast<int>(sizeof(ShimFile)) + real_vfs->szOsFile;
  shim_vfs.xOpen = Open;
  shim_vfs.pNext = nullptr;
  if (sqlite3_vfs_register(&shim_vfs, /*makeDflt=*/1) != SQLITE_OK) std::abort();
  armed_now = false;
  write_error = SQLITE_IOERR_WRITE;
  failure_count = 0;
}

FailingWalVfs::~FailingWalVfs() {
  sqlite3_vfs_unregister(&shim_vfs);
  sqlite3_vfs_register(real_vfs, /*makeDflt=*/1);
}

void FailingWalVfs::Arm(int error) {
  write_error = error;
  armed_now = true;
}
void FailingWalVfs::Disarm() { armed_now = false; }
int FailingWalVfs::failures() const { return failure_count.load(); }

}  // namespace tcc::sdk::testing
