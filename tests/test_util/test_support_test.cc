// The test-support library itself: the child-process wrapper every test,
// tool and the example's launcher use (arguments, environment, captured
// output, timeouts, SIGTERM and SIGKILL, exit statuses), loopback ports and
// temp dirs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/time/clock.h"
#include "common/process/child_process.h"
#include "common/process/port_file.h"
#include "tests/test_util/ports.h"
#include "tests/test_util/status_matchers.h"
#include "tests/test_util/temp_dir.h"
#include "tests/test_util/wait.h"

namespace tcc::process {
namespace {

using ::tcc::testing::ReadFile;
using ::tcc::testing::StatusIs;
using ::tcc::testing::TempDir;
using ::testing::HasSubstr;

TEST(RunCommandTest, PassesArgumentsAndEnvironmentAndCapturesOutput) {
  absl::StatusOr<CommandResult> run =
      RunCommand({"/bin/sh", "-c", "echo \"$1 $TCC_TEST_VAR\"; echo oops >&2; exit 3", "sh", "hi"},
                 {.env = {"TCC_TEST_VAR=there"}});
  ASSERT_OK(run);
  EXPECT_EQ(run->exit_code(), 3);
  EXPECT_FALSE(run->timed_out);
  EXPECT_EQ(run->output, "hi there\noops\n");
}

TEST(RunCommandTest, SeparatesStderrOnRequest) {
  absl::StatusOr<CommandResult> run =
      RunCommand({"/bin/sh", "-c", "echo out; echo err >&2"}, {.separate_stderr = true});
  ASSERT_OK(run);
  EXPECT_EQ(run->exit_code(), 0);
  EXPECT_EQ(run->output, "out\n");
  EXPECT_EQ(run->error, "err\n");
}

TEST(RunCommandTest, KillsACommandThatOutlivesItsTimeout) {
  absl::Time start = absl::Now();
  absl::StatusOr<CommandResult> run =
      RunCommand({"/bin/sh", "-c", "echo started; exec sleep 30"}, {.timeout = absl::Seconds(1)});
  ASSERT_OK(run);
  EXPECT_TRUE(run->timed_out);
  EXPECT_EQ(run->exit_code(), 128 + SIGKILL);
  EXPECT_EQ(run->output, "started\n");
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
}

TEST(RunCommandTest, AMissingProgramIsNotFound) {
  EXPECT_THAT(RunCommand({"/nonexistent/program"}), StatusIs(absl::StatusCode::kNotFound));
}

TEST(ChildProcessTest, KillNineEndsAChildThatIgnoresSigterm) {
  TempDir dir;
  ChildProcess child({.output_path = dir.File("child.log")});
  ASSERT_OK(child.Start({"/bin/sh", "-c", "trap '' TERM; echo up; while :; do sleep 1; done"}));
  EXPECT_TRUE(child.Alive());
  EXPECT_THAT(child.Start({"/bin/true"}), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_FALSE(child.Wait(absl::Milliseconds(100)).has_value());
  std::optional<int> status = child.Kill();
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL) << DescribeWaitStatus(*status);
  EXPECT_FALSE(child.Alive());
  EXPECT_FALSE(child.Kill().has_value());
}

TEST(ChildProcessTest, StopsWithSigtermAndRestartsAppendingToItsLog) {
  TempDir dir;
  ChildProcess child({.output_path = dir.File("child.log")});
  for (const char* word : {"first", "second"}) {
    ASSERT_OK(child.Start({"/bin/sh", "-c", std::string("echo ") + word + "; exec sleep 30"}));
    ASSERT_TRUE(::tcc::testing::WaitFor(
        [&] { return ReadFile(dir.File("child.log")).find(word) != std::string::npos; }));
    std::optional<int> status = child.Stop(absl::Seconds(10));
    ASSERT_TRUE(status.has_value());
    EXPECT_EQ(DescribeWaitStatus(*status), "killed by signal 15 (Terminated)");
  }
  EXPECT_EQ(ReadFile(dir.File("child.log")), "first\nsecond\n");
}

TEST(ChildProcessTest, WaitReturnsTheExitStatus) {
  ChildProcess child;
  ASSERT_OK(child.Start({"/bin/sh", "-c", "exit 7"}));
  std::optional<int> status = child.Wait(absl::Seconds(10));
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(DescribeWaitStatus(*status), "exit 7");
  EXPECT_FALSE(child.started());
}

TEST(PortFileTest, WaitsForThePortAChildWrites) {
  TempDir dir;
  std::string path = dir.File("port");
  ChildProcess child;
  ASSERT_OK(child.Start({"/bin/sh", "-c",
                         "sleep 0.2; echo 4242 > \"$0.tmp\"; mv \"$0.tmp\" \"$0\"; "
                         "exec sleep 30",
                         path}));
  absl::StatusOr<int> port = WaitForPortFile(path, child, absl::Seconds(10));
  ASSERT_OK(port);
  EXPECT_EQ(*port, 4242);
}

TEST(PortFileTest, AChildThatExitsFirstIsUnavailable) {
  TempDir dir;
  ChildProcess child;
  ASSERT_OK(child.Start({"/bin/sh", "-c", "exit 2"}));
  EXPECT_THAT(WaitForPortFile(dir.File("port"), child, absl::Seconds(10)),
              StatusIs(absl::StatusCode::kUnavailable, "exit 2"));
}

TEST(PortsTest, AFreeLoopbackPortIsAPort) {
  int port = ::tcc::testing::FreeLoopbackPort();
  EXPECT_GT(port, 0);
  EXPECT_LT(port, 65536);
  EXPECT_THAT(::tcc::testing::UnusedLoopbackAddress(), HasSubstr("127.0.0.1:"));
}

TEST(TempDirTest, IsRemovedWithItsContents) {
  std::filesystem::path path;
  {
    TempDir dir;
    path = dir.path();
    std::ofstream(dir.File("a")) << "x";
    EXPECT_TRUE(std::filesystem::exists(dir.File("a")));
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

}  // namespace
}  // namespace tcc::process
