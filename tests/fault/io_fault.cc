// tcc_io_fault: an LD_PRELOAD library that makes a process's writes and
// syncs of files under one directory fail with EIO while a trigger file
// exists, so that tests see real I/O errors at the syscall boundary without
// any change to the code under test. The test toggles the fault at runtime
// by creating and removing the trigger file.
//
//   LD_PRELOAD=libtcc_io_fault.so TCC_IO_FAULT_DIR=/abs/dir \
//   TCC_IO_FAULT_TRIGGER=/abs/trigger [TCC_IO_FAULT_CALLS=sync] tccd ...
//
// Intercepted: write, writev, pwrite, pwrite64, pwritev, fsync, fdatasync;
// with TCC_IO_FAULT_CALLS=sync only the syncs fail (the writes land in the
// page cache, then their fsync reports EIO: the case where a failed write
// may still be on disk).
// Reads, opens and memory-mapped writes (SQLite's -shm file) pass through, as
// does everything while the trigger is absent (one stat per call) and every
// descriptor that is not a file under the directory (sockets, logs).
//
// Thread-safety: every function is safe to call from any thread.
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

namespace {

template <typename F>
F Next(const char* name) {
  return reinterpret_cast<F>(dlsym(RTLD_NEXT, name));
}

// True when `path` is `dir` or lies under it.
bool Under(const char* path, const char* dir) {
  size_t length = strlen(dir);
  while (length > 1 && dir[length - 1] == '/') --length;
  return strncmp(path, dir, length) == 0 && (path[length] == '/' || path[length] == '\0');
}

bool SyncsOnly() {
  static const char* const calls = getenv("TCC_IO_FAULT_CALLS");
  return calls != nullptr && strcmp(calls, "sync") == 0;
}

// True when a write or sync of `fd` must fail now.
bool Faulty(int fd) {
  static const char* const dir = getenv("TCC_IO_FAULT_DIR");
  static const char* const trigger = getenv("TCC_IO_FAULT_TRIGGER");
  if (dir == nullptr || trigger == nullptr) return false;
  struct stat st;
  if (stat(trigger, &st) != 0) return false;
  char link[64];
  snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
  char path[PATH_MAX];
  ssize_t n = readlink(link, path, sizeof(path) - 1);
  if (n <= 0) return false;
  path[n] = '\0';
  return Under(path, dir);
}

}  // namespace

// Each wrapper keeps errno as the real call left it, or sets EIO.
#define TCC_FAIL_IF_FAULTY(fd) \
  if (Faulty(fd)) {            \
    errno = EIO;               \
    return -1;                 \
  }
#define TCC_FAIL_WRITE_IF_FAULTY(fd) \
  if (!SyncsOnly()) TCC_FAIL_IF_FAULTY(fd)

extern "C" {

ssize_t write(int fd, const void* buf, size_t n) {
  static const auto real = Next<ssize_t (*)(int, const void*, size_t)>("write");
  TCC_FAIL_WRITE_IF_FAULTY(fd);
  return real(fd, buf, n);
}

ssize_t writev(int fd, const struct iovec* iov, int count) {
  static const auto real = Next<ssize_t (*)(int, const struct iovec*, int)>("writev");
  TCC_FAIL_WRITE_IF_FAULTY(fd);
  return real(fd, iov, count);
}

ssize_t pwrite(int fd, const void* buf, size_t n, off_t offset) {
  static const auto real = Next<ssize_t (*)(int, const void*, size_t, off_t)>("pwrite");
  TCC_FAIL_WRITE_IF_FAULTY(fd);
  return real(fd, buf, n, offset);
}

ssize_t pwrite64(int fd, const void* buf, size_t n, off64_t offset) {
  static const auto real = Next<ssize_t (*)(int, const void*, size_t, off64_t)>("pwrite64");
  TCC_FAIL_WRITE_IF_FAULTY(fd);
  return real(fd, buf, n, offset);
}

ssize_t pwritev(int fd, const struct iovec* iov, int count, off_t offset) {
  static const auto real = Next<ssize_t (*)(int, const struct iovec*, int, off_t)>("pwritev");
  TCC_FAIL_WRITE_IF_FAULTY(fd);
  return real(fd, iov, count, offset);
}

int fsync(int fd) {
  static const auto real = Next<int (*)(int)>("fsync");
  TCC_FAIL_IF_FAULTY(fd);
  return real(fd);
}

int fdatasync(int fd) {
  static const auto real = Next<int (*)(int)>("fdatasync");
  TCC_FAIL_IF_FAULTY(fd);
  return real(fd);
}

}  // extern "C"
