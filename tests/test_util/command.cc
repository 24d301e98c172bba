#include "tests/test_util/command.h"

#include <gtest/gtest.h>

namespace tcc::testing {

CommandResult RunCommandForTest(const std::vector<std::string>& argv, const RunOptions& options) {
  absl::StatusOr<CommandResult> result = ::tcc::process::RunCommand(argv, options);
  if (!result.ok()) {
    ADD_FAILURE() << "cannot run " << (argv.empty() ? "" : argv[0]) << ": " << result.status();
    return CommandResult{};
  }
  if (result->timed_out) ADD_FAILURE() << argv[0] << " timed out and was killed";
  return *std::move(result);
}

}  // namespace tcc::testing
