#include "common/process/silent_connection.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>

namespace tcc::process {

SilentConnection::SilentConnection(int port) : fd_(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
  if (fd_ < 0) return;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return;
  // The preface, then an empty SETTINGS frame (length 0, type 4, no flags,
  // stream 0).
  static constexpr char kOpening[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\4\0\0\0\0\0";
  constexpr size_t kOpeningBytes = sizeof(kOpening) - 1;
  if (send(fd_, kOpening, kOpeningBytes, MSG_NOSIGNAL) != static_cast<ssize_t>(kOpeningBytes)) {
    return;
  }
  timeval timeout{.tv_sec = 10, .tv_usec = 0};
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  char frame_header[9];
  connected_ = recv(fd_, frame_header, sizeof(frame_header), MSG_WAITALL) > 0;
}

SilentConnection::~SilentConnection() {
  if (fd_ >= 0) close(fd_);
}

}  // namespace tcc::process
