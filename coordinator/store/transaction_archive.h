// Retention's archive: final GTs, each with its branches and timeline, as
// JSON lines in gzip files, one file per UTC day of the GT's last update
// (`transactions-2026-11-29.jsonl.gz`), written and fsynced before
// retention deletes the rows. One Append is one gzip member added to the
// end of each file it touches; gzip readers (zcat, Python's gzip) read a
// file's members as one stream.
//
// Crash safety: a member torn by a crash is cut off the first time this
// process appends to that file again, so every file stays readable. The
// torn member's GTs were not deleted (the delete follows the fsync), so
// retention writes them again: after a crash a GT may appear twice, and a
// reader keeps one line per gid.
//
// Not thread-safe: one owner thread (retention's).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "coordinator/domain/transaction.h"

namespace tcc {

struct ArchivedTransaction {
  GlobalTransaction gt;
  std::vector<TimelineEvent> timeline;
};

class TransactionArchive {
 public:
  // Creates `dir` (mode 0750) when missing.
  static absl::StatusOr<std::unique_ptr<TransactionArchive>> Open(std::string dir);

  // Appends `batch` to the files of its days and fsyncs them (and the
  // directory when a file is new). OK means every line is durable.
  absl::Status Append(const std::vector<ArchivedTransaction>& batch);

  // The file that holds GTs last updated at `updated_ms`.
  static std::string FileNameFor(int64_t updated_ms);
  // One line (without the newline): payloads in base64, times in Unix ms.
  static std::string ToJsonLine(const ArchivedTransaction& archived);

 private:
  explicit TransactionArchive(std::string dir) : dir_(std::move(dir)) {}

  absl::Status AppendToFile(const std::string& name, const std::string& lines);
  // Cuts a torn last member off `path`, once per file and process.
  absl::Status RepairOnce(const std::string& path);

  const std::string dir_;
  absl::flat_hash_set<std::string> repaired_;
};

}  // namespace tcc
