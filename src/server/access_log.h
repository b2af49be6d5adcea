// The access log of `logclf serve --access-log`: one JSON object per answered request, a line each, written
// with one write() to a file opened for appending (or standard output), so that nothing already answered
// is lost on kill -9 and lines from many threads never interleave.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "server/client_limits.h"

namespace logclf::server {

class AccessLog {
 public:
  // Opens `path` for appending, creating it (mode 0640) when absent; "-" is standard output. Throws Error
  // naming the path when it cannot be opened.
  explicit AccessLog(std::string path);
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  // Opens the path again (after logrotate moved the file away); on failure throws Error and keeps
  // writing to the file it had.
  void reopen();

  struct Entry {
    const ClientAddress* client = nullptr;
    std::string_view method;
    std::string_view path;  // decoded, without the query (which may hold a log message: /classify_log/)
    int status = 0;
    std::uint64_t request_bytes = 0;   // the body as received
    std::uint64_t response_bytes = 0;  // the body as sent (after compression)
    double seconds = 0;                // from the headers to the end of the response
    std::string_view user_agent;
    bool failed = false;  // the response could not be completed
  };
  // {"time":"2026-12-07T08:00:00.123Z","client":"127.0.0.1","method":"POST","path":"/v1/classify",
  //  "status":200,"request_bytes":52,"response_bytes":120,"duration_ms":0.412,"user_agent":"curl/7.88.1"}
  // ("failed":true is added when the response was cut short). A failed write is reported once on
  // standard error; the request is not affected.
  void write(const Entry& entry);
  static std::string format(const Entry& entry, std::int64_t unix_ms);

 private:
  static int open_file(const std::string& path);

  std::string path_;
  std::mutex mutex_;
  int fd_ = -1;
  bool owned_ = false;  // fd_ is ours to close (not standard output)
  bool reported_ = false;
};

}  // namespace logclf::server
