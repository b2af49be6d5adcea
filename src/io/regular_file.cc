#include "io/regular_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "logclf/types.h"

namespace logclf::io {
namespace {

const char* file_type(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  return "of an unknown type";
}

class Descriptor {
 public:
  explicit Descriptor(int fd) : fd_(fd) {}
  ~Descriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

std::string read_regular_file(const std::string& path, const FileSize& size, const std::string& where,
                              const std::string& name) {
  const auto fail = [&](const std::string& problem) {
    return Error(where.empty() ? "'" + path + "' " + problem : where + ": " + name + " " + problem);
  };
  const auto failed = [&](const char* doing) {
    const int error = errno;
    if (error == ENOENT) return where.empty() ? Error("cannot open '" + path + "': " + std::strerror(error))
                                              : Error(where + " is missing " + name);
    return where.empty() ? Error(std::string("cannot ") + doing + " '" + path + "': " + std::strerror(error))
                         : Error(where + ": cannot " + doing + " " + name + ": " + std::strerror(error));
  };
  const auto check_type = [&](const struct stat& st) {
    if (!S_ISREG(st.st_mode)) throw fail(std::string("is not a regular file (") + file_type(st.st_mode) + ")");
  };
  // stat, not lstat: a symlink to a regular file is fine. Checked before opening as well, since opening a
  // device can do something of its own.
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) throw failed("open");
  check_type(st);
  // O_NONBLOCK: should the file have been replaced by a FIFO in the meantime, opening it does not wait for a
  // writer, and fstat then tells what was opened.
  const Descriptor file(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (file.get() < 0) throw failed("open");
  if (::fstat(file.get(), &st) != 0) throw failed("read");
  check_type(st);
  const auto bytes = static_cast<std::uint64_t>(st.st_size);
  if (size.exact && bytes != *size.exact)
    throw fail("is " + std::to_string(bytes) + " bytes, " + size.announced + " = " + std::to_string(*size.exact) +
               " bytes");
  if (bytes > size.max)
    throw fail("is " + std::to_string(bytes) + " bytes, more than the " + std::to_string(size.max) +
               " bytes it may have");
  std::string out(bytes, '\0');
  for (std::size_t done = 0; done < out.size();) {
    const ssize_t n = ::read(file.get(), out.data() + done, out.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw failed("read");
    if (n == 0) throw fail("shrank while it was read");
    done += static_cast<std::size_t>(n);
  }
  char more;
  ssize_t n;
  do n = ::read(file.get(), &more, 1);
  while (n < 0 && errno == EINTR);
  if (n < 0) throw failed("read");
  if (n > 0) throw fail("grew while it was read");
  return out;
}

std::optional<std::string> read_regular_file_if_exists(const std::string& path, const FileSize& size) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 && errno == ENOENT) return std::nullopt;
  return read_regular_file(path, size);
}

}  // namespace logclf::io
