#include "server/access_log.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <iterator>
#include <utility>

#include <fmt/format.h>

#include "io/json_text.h"
#include "io/utf8.h"
#include "logclf/types.h"

namespace logclf::server {

namespace {

// The address as text: IPv4-mapped IPv6 addresses (how an IPv4 client of a dual-stack socket looks) as IPv4.
std::string address_text(const ClientAddress& a) {
  static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  char text[INET6_ADDRSTRLEN] = {};
  if (std::memcmp(a.data(), kMapped, sizeof kMapped) == 0) {
    ::inet_ntop(AF_INET, a.data() + 12, text, sizeof text);
  } else {
    ::inet_ntop(AF_INET6, a.data(), text, sizeof text);
  }
  return text;
}

// Paths and headers are any bytes a client sent; the log holds valid UTF-8, as the readers make it.
void append_text(std::string& out, std::string_view text) {
  if (const std::size_t bad = io::find_invalid_utf8(text); bad != io::kValidUtf8) {
    std::string valid(text);
    io::replace_invalid_utf8(valid, bad);
    io::append_json(out, valid);
  } else {
    io::append_json(out, text);
  }
}

}  // namespace

AccessLog::AccessLog(std::string path) : path_(std::move(path)) {
  if (path_ == "-") {
    fd_ = STDOUT_FILENO;
  } else {
    fd_ = open_file(path_);
    owned_ = true;
  }
}

AccessLog::~AccessLog() {
  if (owned_) ::close(fd_);
}

int AccessLog::open_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) throw Error("access log " + path + ": " + std::strerror(errno));
  return fd;
}

void AccessLog::reopen() {
  if (!owned_) return;
  const int fd = open_file(path_);
  std::lock_guard lock(mutex_);
  ::close(fd_);
  fd_ = fd;
  reported_ = false;
}

std::string AccessLog::format(const Entry& e, std::int64_t unix_ms) {
  const std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm utc{};
  ::gmtime_r(&seconds, &utc);
  std::string line = fmt::format(R"({{"time":"{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z","client":)", utc.tm_year + 1900,
                                 utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, unix_ms % 1000);
  io::append_json(line, e.client ? address_text(*e.client) : std::string());
  line += ",\"method\":";
  append_text(line, e.method);
  line += ",\"path\":";
  append_text(line, e.path);
  fmt::format_to(std::back_inserter(line), R"(,"status":{},"request_bytes":{},"response_bytes":{},"duration_ms":{:.3f})",
                 e.status, e.request_bytes, e.response_bytes, e.seconds * 1000);
  line += ",\"user_agent\":";
  append_text(line, e.user_agent);
  if (e.failed) line += ",\"failed\":true";
  line += "}\n";
  return line;
}

void AccessLog::write(const Entry& entry) {
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch());
  const std::string line = format(entry, now.count());
  std::lock_guard lock(mutex_);
  std::size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (!std::exchange(reported_, true))
        std::fprintf(stderr, "logclf: cannot write the access log %s: %s\n", path_.c_str(), std::strerror(errno));
      return;
    }
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace logclf::server
