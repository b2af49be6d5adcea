#include "io/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>

#include "logclf/io.h"

namespace logclf::io {

namespace {

// Registry of temporary files for the signal handler. Fixed storage because the handler must not
// allocate; the state word makes a slot's path visible only once it is fully written.
constexpr int kSlots = 32;
constexpr std::size_t kMaxPath = 4096;
enum : int { kFree = 0, kFilling = 1, kLive = 2 };
struct PendingSlot {
  std::atomic<int> state{kFree};
  char path[kMaxPath];
};
static_assert(std::atomic<int>::is_always_lock_free, "the signal handler needs lock-free atomics");
PendingSlot g_pending[kSlots];

int register_pending(const std::string& path) {
  if (path.size() >= kMaxPath) return -1;
  for (int i = 0; i < kSlots; ++i) {
    int expected = kFree;
    if (g_pending[i].state.compare_exchange_strong(expected, kFilling, std::memory_order_acquire)) {
      std::memcpy(g_pending[i].path, path.c_str(), path.size() + 1);
      g_pending[i].state.store(kLive, std::memory_order_release);
      return i;
    }
  }
  return -1;
}

void unregister_pending(int slot) {
  if (slot >= 0) g_pending[slot].state.store(kFree, std::memory_order_release);
}

[[noreturn]] void fail(const std::string& what, const std::string& path, int error) {
  throw Error(what + " '" + path + "': " + std::strerror(error));
}

// Six characters for the temporary name; uniqueness comes from O_EXCL, this only makes clashes rare.
std::string random_suffix() {
  static std::atomic<uint64_t> counter{0};
  uint64_t x = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
               (static_cast<uint64_t>(::getpid()) << 32) ^ (counter.fetch_add(1) * 0x9E3779B97F4A7C15ULL);
  x ^= x >> 31;
  x *= 0xBF58476D1CE4E5B9ULL;
  x ^= x >> 27;
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::string s;
  for (int i = 0; i < 6; ++i, x /= 62) s += kAlphabet[x % 62];
  return s;
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

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)) {
  const std::size_t slash = path_.rfind('/');
  const std::string dir = slash == std::string::npos ? "" : path_.substr(0, slash + 1);
  const std::string base = slash == std::string::npos ? path_ : path_.substr(slash + 1);
  // Like mkstemp, but with mode 0666 so that the umask applies as for any new file (mkstemp's 0600
  // would need the umask, which cannot be read without changing it process-wide).
  for (int attempt = 0;; ++attempt) {
    temp_path_ = dir + "." + base + ".tmp." + random_suffix();
    fd_ = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd_ >= 0) break;
    if (errno != EEXIST || attempt == 100) fail("cannot create a temporary file for", path_, errno);
  }
  slot_ = register_pending(temp_path_);
  struct stat existing;
  if (::stat(path_.c_str(), &existing) == 0 && S_ISREG(existing.st_mode)) {
    ::fchmod(fd_, existing.st_mode & 07777);  // best effort, as the replaced file's owner may differ
  }
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(temp_path_.c_str());
  unregister_pending(slot_);
}

void AtomicFile::write(std::string_view data) {
  if (fd_ < 0) throw Error(path_ + ": write after commit");
  write_all(fd_, data, path_);
}

void AtomicFile::commit() {
  if (fd_ < 0) throw Error(path_ + ": committed twice");
  if (::fsync(fd_) != 0) fail("cannot sync", path_, errno);
  const int fd = fd_;
  fd_ = -1;
  // close() can report a deferred write error (e.g. on NFS).
  if (::close(fd) != 0) fail("cannot write", path_, errno);
  if (::rename(temp_path_.c_str(), path_.c_str()) != 0) fail("cannot rename the temporary file to", path_, errno);
  committed_ = true;
  unregister_pending(slot_);
  slot_ = -1;
  // Make the rename itself durable; some file systems do not support syncing a directory, which is
  // not worth failing a finished run for.
  const std::size_t slash = path_.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path_.substr(0, slash);
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
}

}  // namespace logclf::io

// Async-signal-safe: reads the fixed registry and calls unlink(2) only.
void logclf::remove_pending_temp_files() noexcept {
  for (io::PendingSlot& slot : io::g_pending) {
    if (slot.state.load(std::memory_order_acquire) == io::kLive) ::unlink(slot.path);
  }
}

void logclf::write_file_atomic(const std::string& path, std::string_view data) {
  io::AtomicFile file(path);
  file.write(data);
  file.commit();
}
