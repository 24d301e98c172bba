// A client that holds a connection to a gRPC server open and does nothing
// else: what a server's shutdown must not wait for. For the tests and the
// benchmark (tcc_bench shutdown).
//
// Thread-safety: one owner thread.
#pragma once

namespace tcc::process {

// An HTTP/2 connection to a gRPC server on 127.0.0.1:`port` that opens
// (client preface and SETTINGS, then waits for the server's first frame, so
// the server has taken the connection on) and then says nothing and never
// hangs up until destroyed, GOAWAY or not: a client that merely holds a
// connection open, which a server's shutdown must not wait for.
// connected() is false if the connection could not be opened.
class SilentConnection {
 public:
  explicit SilentConnection(int port);
  ~SilentConnection();
  SilentConnection(const SilentConnection&) = delete;
  SilentConnection& operator=(const SilentConnection&) = delete;

  bool connected() const { return connected_; }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

}  // namespace tcc::process
