// The transport's socket steps on real socket pairs: what each returns, and how far it advances, when the
// peer reads, stops reading, writes or closes.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "server/socket_io.h"

namespace logclf::server {
namespace {

using namespace std::chrono_literals;

struct SocketPair {
  SocketPair() {
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fd), 0);
    const int small = 4096;  // so that a full send buffer is reached quickly
    ::setsockopt(fd[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    ::setsockopt(fd[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  }
  ~SocketPair() {
    for (int f : fd)
      if (f >= 0) ::close(f);
  }
  void close_peer() {
    ::close(fd[1]);
    fd[1] = -1;
  }
  std::string drain_peer() {
    std::string all;
    char buffer[65536];
    for (ssize_t n; (n = ::recv(fd[1], buffer, sizeof buffer, MSG_DONTWAIT)) > 0;) all.append(buffer, n);
    return all;
  }
  int fd[2] = {-1, -1};
};

TEST(SocketIo, AWriteStepStopsAtAFullSocketAndResumesWhereItStopped) {
  SocketPair pair;
  std::string out(1 << 20, 'x');
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<char>('a' + i % 26);
  std::size_t pos = 0;
  EXPECT_EQ(write_step(pair.fd[0], out, pos), Io::again);
  EXPECT_GT(pos, 0u);
  EXPECT_LT(pos, out.size());
  std::string received = pair.drain_peer();
  EXPECT_EQ(received.size(), pos);
  while (write_step(pair.fd[0], out, pos) == Io::again) received += pair.drain_peer();
  received += pair.drain_peer();
  EXPECT_EQ(pos, out.size());
  EXPECT_EQ(received, out);
}

TEST(SocketIo, WriteAllGivesUpOnAPeerThatStopsReadingAndFailsOnAClosedOne) {
  SocketPair pair;
  const std::string big(1 << 20, 'x');
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(write_all(pair.fd[0], big, 100ms));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 100ms);
  pair.close_peer();
  std::size_t pos = 0;
  EXPECT_EQ(write_step(pair.fd[0], std::string("more"), pos), Io::failed);
}

TEST(SocketIo, WriteAllSendsEveryPieceOfAnIoVectorInOrder) {
  SocketPair pair;
  std::string received;
  std::thread reader([&] {
    char buffer[65536];
    while (received.size() < 300000) {
      const ssize_t n = ::recv(pair.fd[1], buffer, sizeof buffer, 0);
      if (n > 0) received.append(buffer, n);
      else if (n == 0) break;
      else std::this_thread::sleep_for(1ms);
    }
  });
  std::string a(100000, 'a'), b(100000, 'b'), c(100000, 'c');
  iovec iov[3] = {{a.data(), a.size()}, {b.data(), b.size()}, {c.data(), c.size()}};
  EXPECT_TRUE(write_all(pair.fd[0], iov, 3, 5s));
  reader.join();
  EXPECT_EQ(received, a + b + c);
}

TEST(SocketIo, ReadStepAppendsWhatCameAndTellsAnEmptySocketFromAClosedOne) {
  SocketPair pair;
  char buffer[8];
  std::string in = "kept:";
  std::size_t got = 0;
  EXPECT_EQ(read_step(pair.fd[0], in, buffer, sizeof buffer, &got), Io::again);
  ASSERT_EQ(::send(pair.fd[1], "hello world", 11, 0), 11);
  EXPECT_EQ(read_step(pair.fd[0], in, buffer, sizeof buffer, &got), Io::done);
  EXPECT_EQ(got, 8u);
  EXPECT_EQ(read_step(pair.fd[0], in, buffer, sizeof buffer, &got), Io::done);
  EXPECT_EQ(got, 3u);
  EXPECT_EQ(in, "kept:hello world");
  pair.close_peer();
  EXPECT_EQ(read_step(pair.fd[0], in, buffer, sizeof buffer), Io::closed);
}

TEST(SocketIo, ReadBlockingWaitsForDataUpToItsTimeout) {
  SocketPair pair;
  char buffer[64];
  std::string in;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(read_blocking(pair.fd[0], in, buffer, sizeof buffer, 100ms), Io::failed);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 100ms);
  std::thread writer([&] {
    std::this_thread::sleep_for(50ms);
    [[maybe_unused]] const ssize_t n = ::send(pair.fd[1], "late", 4, 0);
  });
  EXPECT_EQ(read_blocking(pair.fd[0], in, buffer, sizeof buffer, 5s), Io::done);
  writer.join();
  EXPECT_EQ(in, "late");
}

TEST(SocketIo, LingeringDropsInputUntilThePeerClosesOrTheLimitIsReached) {
  SocketPair pair;
  char buffer[1024];
  std::size_t drained = 0;
  EXPECT_EQ(linger_step(pair.fd[0], buffer, sizeof buffer, drained, 10000), Io::again);
  ASSERT_EQ(::send(pair.fd[1], std::string(3000, 'x').data(), 3000, 0), 3000);
  EXPECT_EQ(linger_step(pair.fd[0], buffer, sizeof buffer, drained, 10000), Io::again);
  EXPECT_EQ(drained, 3000u);
  ASSERT_EQ(::send(pair.fd[1], std::string(3000, 'x').data(), 3000, 0), 3000);
  EXPECT_EQ(linger_step(pair.fd[0], buffer, sizeof buffer, drained, 5000), Io::done);  // over the limit
  SocketPair closed;
  closed.close_peer();
  drained = 0;
  EXPECT_EQ(linger_step(closed.fd[0], buffer, sizeof buffer, drained, 10000), Io::done);
}

}  // namespace
}  // namespace logclf::server
