// Loopback ports for tests. A server under test should listen on port 0 and
// report the port it got (gRPC's AddListeningPort, tccd --port_file; see
// common/process/port_file.h): that never races. These are for the other
// cases: an address where nothing listens, to test what a client does then.
//
// Thread-safety: free functions, safe from any thread.
#pragma once

#include <string>

namespace tcc::testing {

// A port on 127.0.0.1 that was free a moment ago (the kernel's choice for a
// socket bound to port 0, then closed). Another process may take it.
int FreeLoopbackPort();

// "127.0.0.1:<port>" where nothing listens (as far as a test can tell).
std::string UnusedLoopbackAddress();

}  // namespace tcc::testing
