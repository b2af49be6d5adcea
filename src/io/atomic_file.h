// Output files that appear complete or not at all: data goes to a temporary file beside the target,
// which commit() fsyncs and renames over it. Live temporary files are listed in a fixed-size registry
// (32 paths shorter than 4096 bytes; others are still removed by the destructor) that
// logclf::remove_pending_temp_files() (logclf/io.h) unlinks from a signal handler.
#pragma once

#include <string>
#include <string_view>

namespace logclf::io {

// Writes all of `data` to `fd`, retrying short writes and EINTR.
// Throws Error("NAME: write error: <strerror>") (e.g. ENOSPC, or EPIPE once SIGPIPE is ignored).
void write_all(int fd, std::string_view data, const std::string& name);

class AtomicFile {
 public:
  // Creates `.BASENAME.tmp.XXXXXX` in the directory of `path`, with the permissions a new file would
  // get (or those of the file it will replace). Throws Error when it cannot be created.
  explicit AtomicFile(std::string path);
  // Removes the temporary file unless commit() succeeded.
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(std::string_view data);
  // fsync, then rename over the target (replacing any file there), then fsync of the directory.
  void commit();
  const std::string& path() const { return path_; }
  const std::string& temp_path() const { return temp_path_; }

 private:
  std::string path_;
  std::string temp_path_;
  int fd_ = -1;
  int slot_ = -1;           // entry in the pending-file registry, -1 if not registered
  bool committed_ = false;
};

}  // namespace logclf::io
