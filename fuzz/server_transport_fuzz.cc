// Fuzzes the HTTP transport as a client would reach it: each input is written to a real server (in this
// process, on loopback) over a new connection, which is then shut for writing, and the answer read to the
// end. Request heads, chunked and compressed bodies, pipelining, refusals, the hand-off to worker threads
// and the request phases are all exercised, with the sanitizers watching every server thread. Besides
// crashes it checks that the server always ends the exchange within seconds (a hang is a bug: the client
// has sent everything) and that whatever it sends is HTTP responses.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <thread>

#include "logclf/classifier.h"
#include "logclf/server.h"

namespace {

int server_port() {
  static const int port = [] {
    logclf::ServeOptions options;
    options.port = 0;
    options.threads = 4;
    options.max_body = 1 << 20;
    options.header_timeout = std::chrono::milliseconds(3000);
    static logclf::HttpServer server(logclf::Classifier::load_default(), options);
    const int bound = server.bind();
    std::thread([] { server.run(); }).detach();
    return bound;
  }();
  return port;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(server_port()));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval timeout{8, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return 0;
  }
  // The server may answer and close before it has read everything: a failed send is not an error.
  for (std::size_t sent = 0; sent < size;) {
    const ssize_t n = ::send(fd, data + sent, size - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<std::size_t>(n);
  }
  ::shutdown(fd, SHUT_WR);
  std::string answer;
  char buffer[65536];
  for (;;) {
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n > 0) {
      answer.append(buffer, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) __builtin_trap();  // the server hangs
    break;  // closed, or reset after a refusal
  }
  ::close(fd);
  if (!answer.empty() && !answer.starts_with("HTTP/1.")) __builtin_trap();
  return 0;
}
