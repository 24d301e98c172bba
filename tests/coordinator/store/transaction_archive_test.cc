#include "coordinator/store/transaction_archive.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "absl/strings/escaping.h"
#include "absl/strings/str_split.h"
#include "tests/test_util/status_matchers.h"
#include "tests/test_util/temp_dir.h"

namespace tcc {
namespace {

using ::tcc::testing::TempDir;

constexpr int64_t kNov29 = 1795910400000;  // 2026-11-29T00:00:00Z.
constexpr int64_t kDay = 24 * 3600 * 1000;

ArchivedTransaction Sample(const std::string& gid, int64_t updated_ms) {
  ArchivedTransaction archived;
  archived.gt.gid = gid;
  archived.gt.state = TxState::kCommitted;
  archived.gt.updated_ms = updated_ms;
  Branch branch{.branch_id = "b1", .target = "127.0.0.1:7501", .action = "points.freeze"};
  branch.payload = std::string("\0binary\xff", 8);
  branch.state = BranchState::kConfirmed;
  archived.gt.branches.push_back(branch);
  archived.timeline.push_back({updated_ms, "state", "COMMITTED", "tccd"});
  return archived;
}

// Every line of a gzip file (all its members), or the error zlib gave.
std::vector<std::string> ReadLines(const std::string& path, bool* clean) {
  gzFile file = gzopen(path.c_str(), "rb");
  std::string text;
  char buffer[4096];
  int n = 0;
  while (file != nullptr && (n = gzread(file, buffer, sizeof buffer)) > 0) text.append(buffer, n);
  int error = Z_OK;
  if (file != nullptr) gzerror(file, &error);
  *clean = file != nullptr && n == 0 && error == Z_OK;
  if (file != nullptr) gzclose(file);
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

TEST(TransactionArchive, WritesOneGzipFilePerDayOfTheLastUpdate) {
  TempDir dir;
  auto archive = TransactionArchive::Open(dir.File("archive"));
  ASSERT_OK(archive);
  ASSERT_OK((*archive)->Append({Sample("a", kNov29 + 5), Sample("b", kNov29 - 5)}));
  ASSERT_OK((*archive)->Append({Sample("c", kNov29 + kDay - 1)}));

  bool clean = false;
  auto today = ReadLines(dir.File("archive/transactions-2026-11-29.jsonl.gz"), &clean);
  EXPECT_TRUE(clean);
  ASSERT_EQ(today.size(), 2u) << "two members, read as one stream";
  auto yesterday = ReadLines(dir.File("archive/transactions-2026-11-28.jsonl.gz"), &clean);
  EXPECT_TRUE(clean);
  ASSERT_EQ(yesterday.size(), 1u);

  auto json = nlohmann::json::parse(today[0]);
  EXPECT_EQ(json["gid"], "a");
  EXPECT_EQ(json["state"], "COMMITTED");
  std::string payload;
  ASSERT_TRUE(
      absl::Base64Unescape(json["branches"][0]["payload_base64"].get<std::string>(), &payload));
  EXPECT_EQ(payload, std::string("\0binary\xff", 8)) << "bytes survive";
  EXPECT_EQ(json["branches"][0]["state"], "CONFIRMED");
  EXPECT_EQ(json["timeline"][0]["detail"], "COMMITTED");
  EXPECT_EQ(nlohmann::json::parse(today[1])["gid"], "c");
  EXPECT_EQ(nlohmann::json::parse(yesterday[0])["gid"], "b");
}

TEST(TransactionArchive, ATornLastMemberIsCutOffBeforeTheNextAppend) {
  TempDir dir;
  std::string path = dir.File("archive/transactions-2026-11-29.jsonl.gz");
  {
    auto archive = TransactionArchive::Open(dir.File("archive"));
    ASSERT_OK(archive);
    ASSERT_OK((*archive)->Append({Sample("kept", kNov29)}));
    ASSERT_OK((*archive)->Append({Sample("torn", kNov29)}));
  }
  // A crash in the middle of the second member's write.
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 7);
  bool clean = true;
  ReadLines(path, &clean);
  ASSERT_FALSE(clean) << "the damage is real";

  auto restarted = TransactionArchive::Open(dir.File("archive"));
  ASSERT_OK(restarted);
  ASSERT_OK((*restarted)->Append({Sample("torn", kNov29), Sample("next", kNov29)}));
  auto lines = ReadLines(path, &clean);
  EXPECT_TRUE(clean) << "readable again";
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(nlohmann::json::parse(lines[0])["gid"], "kept");
  EXPECT_EQ(nlohmann::json::parse(lines[1])["gid"], "torn") << "written again, whole";
  EXPECT_EQ(nlohmann::json::parse(lines[2])["gid"], "next");
}

TEST(TransactionArchive, APathThatIsAFileIsRefusedClearly) {
  TempDir dir;
  std::ofstream(dir.File("plain")) << "x";
  auto archive = TransactionArchive::Open(dir.File("plain"));
  ASSERT_FALSE(archive.ok());
  EXPECT_EQ(archive.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(archive.status().message().find("not a directory"), std::string::npos);
}

TEST(TransactionArchive, AFailedWriteIsAnErrorThatNamesTheFlag) {
  TempDir dir;
  auto archive = TransactionArchive::Open(dir.File("archive"));
  ASSERT_OK(archive);
  // The directory vanishes under tccd, and a file takes its name.
  std::filesystem::remove_all(dir.File("archive"));
  std::ofstream(dir.File("archive")) << "x";
  absl::Status appended = (*archive)->Append({Sample("a", kNov29)});
  EXPECT_EQ(appended.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(appended.message().find("--archive_dir"), std::string::npos) << appended;
}

}  // namespace
}  // namespace tcc
