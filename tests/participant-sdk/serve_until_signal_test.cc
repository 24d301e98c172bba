// ServeUntilSignal in a real child process (serve_child): the child serves
// until it gets a real SIGTERM or SIGINT, then shuts its servers down and
// exits 0 on its own, reporting the signal; its port is closed afterwards.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <fstream>
#include <sstream>
#include <string>

#include "common/process/child_process.h"
#include "common/process/port_file.h"
#include "tests/test_util/status_matchers.h"
#include "tests/test_util/temp_dir.h"

namespace tcc::sdk::testing {
namespace {

using ::tcc::process::ChildProcess;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

bool Connects(int port, absl::Duration timeout) {
  auto channel =
      grpc::CreateChannel(process::LoopbackAddress(port), grpc::InsecureChannelCredentials());
  return channel->WaitForConnected(absl::ToChronoTime(absl::Now() + timeout));
}

class ServeUntilSignalTest : public ::testing::TestWithParam<int> {};

TEST_P(ServeUntilSignalTest, ChildServesUntilTheSignalThenStopsCleanly) {
  const int signal = GetParam();
  ::tcc::testing::TempDir dir;
  ChildProcess child({.output_path = dir.File("child.out"),
                      .error_path = dir.File("child.err"),
                      .truncate = true});
  ASSERT_OK(child.Start({SERVE_CHILD_PATH, dir.path().string(), dir.File("port")}));
  absl::StatusOr<int> port = process::WaitForPortFile(dir.File("port"), child, absl::Seconds(20));
  ASSERT_OK(port);
  ASSERT_TRUE(Connects(*port, absl::Seconds(5)));
  // Still serving a moment later: nothing but the signal ends it.
  absl::SleepFor(absl::Milliseconds(200));
  ASSERT_TRUE(child.Alive());

  ASSERT_EQ(kill(child.pid(), signal), 0);
  std::optional<int> status = child.Wait(absl::Seconds(10));
  ASSERT_TRUE(status.has_value()) << "the child did not stop on signal " << signal;
  EXPECT_TRUE(WIFEXITED(*status)) << process::DescribeWaitStatus(*status);
  EXPECT_EQ(WEXITSTATUS(*status), 0);
  // (The SDK logs to stdout too; our line comes last, after both shut down.)
  EXPECT_THAT(ReadFile(dir.File("child.out")),
              ::testing::EndsWith("\nstopped by signal " + std::to_string(signal) + "\n"));
  EXPECT_FALSE(Connects(*port, absl::Milliseconds(300)));
}

INSTANTIATE_TEST_SUITE_P(Signals, ServeUntilSignalTest, ::testing::Values(SIGTERM, SIGINT),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return info.param == SIGTERM ? std::string("SIGTERM")
                                                        : std::string("SIGINT");
                         });

}  // namespace
}  // namespace tcc::sdk::testing
