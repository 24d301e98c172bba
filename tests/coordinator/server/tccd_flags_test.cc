// The real tccd binary's command line: --help lists tccd's own flags,
// --version says which build, and bad flag values are refused before
// anything starts, with exit code 2 and a message naming the flag.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/test_util/command.h"
#include "tests/test_util/temp_dir.h"

namespace tcc {
namespace {

using ::tcc::testing::RunCommandForTest;

TEST(TccdFlagsTest, HelpListsTccdsOwnFlags) {
  auto run = RunCommandForTest({TCCD_PATH, "--help"});
  for (const char* flag :
       {"--data", "--listen", "--retention_s", "--archive_dir", "--sync", "--batch_max"}) {
    EXPECT_NE(run.output.find(flag), std::string::npos) << flag << "\n" << run.output;
  }
  EXPECT_EQ(run.output.find("No flags matched"), std::string::npos) << run.output;
}

TEST(TccdFlagsTest, VersionPrintsTheBuild) {
  auto run = RunCommandForTest({TCCD_PATH, "--version"});
  EXPECT_EQ(run.exit_code(), 0) << run.output;
  EXPECT_THAT(run.output,
              ::testing::MatchesRegex("tccd [0-9]+\\.[0-9]+\\.[0-9]+ \\(commit [0-9a-z-]+\\)\n"));
}

TEST(TccdFlagsTest, ANegativeRetentionIsRefusedBeforeStarting) {
  ::tcc::testing::TempDir dir;
  auto run = RunCommandForTest(
      {TCCD_PATH, "--retention_s=-5", "--listen=127.0.0.1:0", "--data=" + dir.File("tccd.db")});
  EXPECT_EQ(run.exit_code(), 2) << run.output;
  EXPECT_NE(run.output.find("--retention_s must be 0"), std::string::npos) << run.output;
  EXPECT_FALSE(std::filesystem::exists(dir.File("tccd.db"))) << "nothing was opened";
}

TEST(TccdFlagsTest, ABatchSizeBelowOneIsRefusedBeforeStarting) {
  ::tcc::testing::TempDir dir;
  auto run = RunCommandForTest(
      {TCCD_PATH, "--batch_max=0", "--listen=127.0.0.1:0", "--data=" + dir.File("tccd.db")});
  EXPECT_EQ(run.exit_code(), 2) << run.output;
  EXPECT_NE(run.output.find("--batch_max and --batch_in_flight must be at least 1"),
            std::string::npos)
      << run.output;
  EXPECT_FALSE(std::filesystem::exists(dir.File("tccd.db"))) << "nothing was opened";
}

}  // namespace
}  // namespace tcc
