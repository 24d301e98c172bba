// An in-process tccd for integration tests: loopback port 0, its SQLite
// file in the test's temp dir, and a client connected to it.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>

#include "coordinator/server/daemon.h"
#include "tests/coordinator/coordinator_client.h"
#include "tests/test_util/status_matchers.h"
#include "tests/test_util/temp_dir.h"

namespace tcc::testing {

struct TestDaemon {
  std::unique_ptr<Daemon> daemon;
  std::unique_ptr<CoordinatorClient> client;
};

// `configure` adjusts the default test configuration before the start.
// Fails the current test (and returns nulls) if the daemon cannot start.
inline TestDaemon StartTestDaemon(const TempDir& dir,
                                  const std::function<void(DaemonConfig&)>& configure = {}) {
  DaemonConfig config;
  config.listen = "127.0.0.1:0";
  config.data_path = dir.File("tccd.db");
  if (configure) configure(config);
  absl::StatusOr<std::unique_ptr<Daemon>> daemon = Daemon::Start(std::move(config));
  EXPECT_OK(daemon);
  if (!daemon.ok()) return {};
  auto client = std::make_unique<CoordinatorClient>(absl::StrCat("127.0.0.1:", (*daemon)->port()));
  return {std::move(*daemon), std::move(client)};
}

}  // namespace tcc::testing
