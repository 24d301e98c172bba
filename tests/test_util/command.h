// Runs a program to completion for a test (tccctl, the example's launcher
// and checker, tcc_bench), the way a user would: common/process's
// RunCommand, with a failure to start the program reported as a test
// failure (and an exit code of -1) so that a test reads as one line.
//
// Thread-safety: safe from any thread.
#pragma once

#include <string>
#include <vector>

#include "common/process/child_process.h"

namespace tcc::testing {

using ::tcc::process::CommandResult;
using ::tcc::process::RunOptions;

CommandResult RunCommandForTest(const std::vector<std::string>& argv,
                                const RunOptions& options = {});

}  // namespace tcc::testing
