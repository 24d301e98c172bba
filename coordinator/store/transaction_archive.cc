#include "coordinator/store/transaction_archive.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "tcc/common/status_macros.h"

namespace tcc {
namespace {

absl::Status FileError(absl::string_view what, const std::string& path) {
  return absl::UnavailableError(absl::StrCat("archive: cannot ", what, " ", path, ": ",
                                             std::strerror(errno),
                                             "; check --archive_dir's disk and permissions"));
}

absl::Status SyncDirectory(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return FileError("open", dir);
  absl::Cleanup close_fd = [fd] { ::close(fd); };
  if (::fsync(fd) != 0) return FileError("fsync", dir);
  return absl::OkStatus();
}

absl::Status WriteAll(int fd, const std::string& data, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return FileError("write", path);
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

// `text` as one complete gzip member.
absl::StatusOr<std::string> GzipMember(const std::string& text) {
  z_stream z{};
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    return absl::InternalError("archive: zlib cannot start compressing");
  }
  absl::Cleanup end = [&z] { deflateEnd(&z); };
  std::string out(deflateBound(&z, text.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
    return absl::InternalError("archive: zlib cannot compress a batch");
  }
  out.resize(z.total_out);
  return out;
}

// The length of the longest prefix of `fd`'s file made of whole gzip members.
absl::StatusOr<off_t> WholeMembersLength(int fd, const std::string& path) {
  z_stream z{};
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
    return absl::InternalError("archive: zlib cannot start reading");
  }
  absl::Cleanup end = [&z] { inflateEnd(&z); };
  std::string in(1 << 16, '\0');
  std::string out(1 << 16, '\0');
  off_t member_start = 0;
  while (true) {
    ssize_t n = ::read(fd, in.data(), in.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return FileError("read", path);
    if (n == 0) return member_start;
    z.next_in = reinterpret_cast<Bytef*>(in.data());
    z.avail_in = static_cast<uInt>(n);
    while (z.avail_in > 0) {
      z.next_out = reinterpret_cast<Bytef*>(out.data());
      z.avail_out = static_cast<uInt>(out.size());
      int rc = inflate(&z, Z_NO_FLUSH);
      if (rc == Z_STREAM_END) {
        member_start += static_cast<off_t>(z.total_in);
        inflateReset(&z);
      } else if (rc != Z_OK) {
        return member_start;  // Damaged from here on.
      }
    }
  }
}

nlohmann::ordered_json BranchJson(const Branch& branch) {
  nlohmann::ordered_json json = {
      {"branch_id", branch.branch_id}, {"target", branch.target},
      {"action", branch.action},       {"payload_base64", absl::Base64Escape(branch.payload)},
      {"headers", branch.headers},     {"state", BranchStateName(branch.state)},
      {"attempts", branch.attempts},   {"last_error", branch.last_error},
  };
  if (!branch.depends_on.empty()) json["depends_on"] = branch.depends_on;
  if (branch.timeout_ms > 0) json["timeout_ms"] = branch.timeout_ms;
  return json;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TransactionArchive>> TransactionArchive::Open(std::string dir) {
  if (::mkdir(dir.c_str(), 0750) != 0 && errno != EEXIST) return FileError("create", dir);
  struct stat info {};
  if (::stat(dir.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--archive_dir ", dir, " is not a directory; give a directory path"));
  }
  return std::unique_ptr<TransactionArchive>(new TransactionArchive(std::move(dir)));
}

std::string TransactionArchive::FileNameFor(int64_t updated_ms) {
  return absl::StrCat(
      "transactions-",
      absl::FormatTime("%Y-%m-%d", absl::FromUnixMillis(updated_ms), absl::UTCTimeZone()),
      ".jsonl.gz");
}

std::string TransactionArchive::ToJsonLine(const ArchivedTransaction& archived) {
  const GlobalTransaction& gt = archived.gt;
  nlohmann::ordered_json json = {
      {"gid", gt.gid},
      {"mode", gt.mode == TxMode::kSaga ? "SAGA" : "TCC"},
      {"state", TxStateName(gt.state)},
      {"created_ms", gt.created_ms},
      {"updated_ms", gt.updated_ms},
      {"timeout_ms", gt.timeout_ms},
      {"status_endpoint", gt.status_endpoint},
      {"decision_reason", gt.decision_reason},
      {"stuck", gt.stuck},
      {"traceparent", gt.traceparent},
  };
  nlohmann::ordered_json& branches = json["branches"] = nlohmann::ordered_json::array();
  for (const Branch& branch : gt.branches) branches.push_back(BranchJson(branch));
  nlohmann::ordered_json& timeline = json["timeline"] = nlohmann::ordered_json::array();
  for (const TimelineEvent& event : archived.timeline) {
    timeline.push_back({{"at_ms", event.at_ms},
                        {"kind", event.kind},
                        {"detail", event.detail},
                        {"actor", event.actor}});
  }
  // Bytes that are not UTF-8 (an error text, say) are replaced, never refused.
  return json.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

absl::Status TransactionArchive::Append(const std::vector<ArchivedTransaction>& batch) {
  std::map<std::string, std::string> lines_by_file;
  for (const ArchivedTransaction& archived : batch) {
    std::string& lines = lines_by_file[FileNameFor(archived.gt.updated_ms)];
    absl::StrAppend(&lines, ToJsonLine(archived), "\n");
  }
  for (const auto& [name, lines] : lines_by_file) {
    TCC_RETURN_IF_ERROR(AppendToFile(name, lines));
  }
  return absl::OkStatus();
}

absl::Status TransactionArchive::AppendToFile(const std::string& name, const std::string& lines) {
  std::string path = absl::StrCat(dir_, "/", name);
  TCC_RETURN_IF_ERROR(RepairOnce(path));
  TCC_ASSIGN_OR_RETURN(std::string member, GzipMember(lines));
  bool existed = ::access(path.c_str(), F_OK) == 0;
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) return FileError("open", path);
  absl::Cleanup close_fd = [fd] { ::close(fd); };
  off_t before = ::lseek(fd, 0, SEEK_END);
  absl::Status written = WriteAll(fd, member, path);
  if (written.ok() && ::fsync(fd) != 0) written = FileError("fsync", path);
  if (!written.ok()) {
    if (before >= 0) (void)::ftruncate(fd, before);  // Best effort: no torn member.
    return written;
  }
  return existed ? absl::OkStatus() : SyncDirectory(dir_);
}

absl::Status TransactionArchive::RepairOnce(const std::string& path) {
  if (repaired_.contains(path)) return absl::OkStatus();
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    repaired_.insert(path);
    return absl::OkStatus();
  }
  if (fd < 0) return FileError("open", path);
  absl::Cleanup close_fd = [fd] { ::close(fd); };
  TCC_ASSIGN_OR_RETURN(off_t whole, WholeMembersLength(fd, path));
  off_t size = ::lseek(fd, 0, SEEK_END);
  if (size != whole) {
    if (::ftruncate(fd, whole) != 0 || ::fsync(fd) != 0) return FileError("repair", path);
  }
  repaired_.insert(path);
  return absl::OkStatus();
}

}  // namespace tcc
