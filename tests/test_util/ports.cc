#include "tests/test_util/ports.h"

#include "common/process/port_file.h"

namespace tcc::testing {

int FreeLoopbackPort() { return ::tcc::process::FreeLoopbackPort(); }

std::string UnusedLoopbackAddress() { return ::tcc::process::LoopbackAddress(FreeLoopbackPort()); }

}  // namespace tcc::testing
