#include "io/atomic_file.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "io/temp_path.h"
#include "logclf/io.h"

namespace logclf::io {

namespace {

[[noreturn]] void fail(const std::string& what, const std::string& path, int error) {
  throw Error(what + " '" + path + "': " + std::strerror(error));
}

// `path` with symbolic links in its last component followed (a dangling link gives the path it names,
// which is then created). Links in directories need no following: the rename happens in the same place.
std::string follow_links(const std::string& path) {
  std::string current = path;
  for (int hops = 0;; ++hops) {
    struct stat st;
    if (::lstat(current.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return current;
    if (hops == 40) fail("cannot write", path, ELOOP);
    std::string link(static_cast<std::size_t>(st.st_size > 0 ? st.st_size : 4096) + 1, '\0');
    const ssize_t n = ::readlink(current.c_str(), link.data(), link.size());
    if (n < 0) fail("cannot read the link", current, errno);
    link.resize(static_cast<std::size_t>(n));
    const std::size_t slash = current.rfind('/');
    current = link.starts_with('/') || slash == std::string::npos ? link : current.substr(0, slash + 1) + link;
  }
}

int connect_unix_socket(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof address.sun_path) fail("cannot connect to the socket", path, ENAMETOOLONG);
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) fail("cannot connect to the socket", path, errno);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    const int error = errno;
    ::close(fd);
    fail("cannot connect to the socket", path, error);
  }
  return fd;
}

}  // namespace

void write_all(int fd, std::string_view data, const std::string& name) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error(name + ": write error: " + std::strerror(errno));
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)), target_(follow_links(path_)) {
  struct stat existing;
  const bool exists = ::stat(target_.c_str(), &existing) == 0;
  if (exists && S_ISDIR(existing.st_mode)) throw Error("cannot write '" + path_ + "': it is a directory");
  if (exists && S_ISSOCK(existing.st_mode)) {
    fd_ = connect_unix_socket(target_);
    return;
  }
  if (exists && !S_ISREG(existing.st_mode)) {  // FIFO or device: written in place, as a shell's > would
    fd_ = ::open(target_.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd_ < 0) fail("cannot open", path_, errno);
    return;
  }
  TempPath temp = create_temp_file(target_);
  temp_path_ = std::move(temp.path);
  fd_ = temp.fd;
  slot_ = register_pending(temp_path_, /*directory=*/false);
  if (exists) ::fchmod(fd_, existing.st_mode & 07777);  // best effort, as the replaced file's owner may differ
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_ && !temp_path_.empty()) ::unlink(temp_path_.c_str());
  unregister_pending(slot_);
}

void AtomicFile::write(std::string_view data) {
  if (fd_ < 0) throw Error(path_ + ": write after commit");
  write_all(fd_, data, path_);
}

void AtomicFile::commit() {
  if (fd_ < 0) throw Error(path_ + ": committed twice");
  const int fd = fd_;
  fd_ = -1;
  if (temp_path_.empty()) {  // a stream
    committed_ = true;
    if (::close(fd) != 0) fail("cannot write", path_, errno);
    return;
  }
  if (::fsync(fd) != 0) {
    const int error = errno;
    ::close(fd);
    fail("cannot sync", path_, error);
  }
  // close() can report a deferred write error (e.g. on NFS).
  if (::close(fd) != 0) fail("cannot write", path_, errno);
  if (::rename(temp_path_.c_str(), target_.c_str()) != 0) fail("cannot rename the temporary file to", path_, errno);
  committed_ = true;
  unregister_pending(slot_);
  slot_ = -1;
  // Make the rename itself durable; some file systems do not support syncing a directory, which is
  // not worth failing a finished run for.
  const std::size_t slash = target_.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : target_.substr(0, slash);
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
}

}  // namespace logclf::io

void logclf::write_file_atomic(const std::string& path, std::string_view data) {
  io::AtomicFile file(path);
  file.write(data);
  file.commit();
}
