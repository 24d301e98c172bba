// ServeUntilSignal: the main loop of a process that hosts SDK servers (a
// ParticipantServer, a StatusEndpoint, or both). It blocks the calling
// thread until the process gets SIGTERM or SIGINT, then shuts every server
// down, in the order given (calls in flight finish first), and returns the
// signal, so a main needs no second thread to call Shutdown:
//
//   TCC_RETURN_IF_ERROR(server.Start("127.0.0.1:7001"));
//   tcc::sdk::ServeUntilSignal(server);  // until `kill <pid>` or Ctrl-C
//
// It works whether or not other threads (gRPC's) started before: while it
// waits, it installs handlers for the two signals that only wake it (through
// a pipe, which is async-signal-safe), and restores the previous handlers
// before returning. One call at a time per process.
#pragma once

namespace tcc::sdk {

// Blocks until SIGTERM or SIGINT arrives; returns the signal number.
int WaitForTerminationSignal();

// Waits for SIGTERM or SIGINT, then calls Shutdown() on each server in
// order; returns the signal number.
template <typename... Servers>
int ServeUntilSignal(Servers&... servers) {
  int signal = WaitForTerminationSignal();
  (servers.Shutdown(), ...);
  return signal;
}

}  // namespace tcc::sdk
