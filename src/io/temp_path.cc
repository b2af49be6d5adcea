#include "io/temp_path.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>

#include "logclf/io.h"

namespace logclf::io {

namespace {

constexpr std::string_view kSuffix = ".logclf-tmp";
constexpr std::size_t kRandomChars = 6;

// Registry of temporaries for the signal handler. Fixed storage because the handler must not allocate;
// the state word makes a slot's path visible only once it is fully written.
constexpr int kSlots = 32;
constexpr std::size_t kMaxPath = 4096;
enum : int { kFree = 0, kFilling = 1, kLiveFile = 2, kLiveDirectory = 3 };
struct PendingSlot {
  std::atomic<int> state{kFree};
  char path[kMaxPath];
};
static_assert(std::atomic<int>::is_always_lock_free, "the signal handler needs lock-free atomics");
PendingSlot g_pending[kSlots];

// Splits "DIR/NAME" into "DIR/" (empty for a bare name) and "NAME".
std::pair<std::string, std::string> split(const std::string& target) {
  const std::size_t slash = target.rfind('/');
  if (slash == std::string::npos) return {"", target};
  return {target.substr(0, slash + 1), target.substr(slash + 1)};
}

// Uniqueness comes from O_EXCL / mkdir; this only makes clashes rare.
std::string random_chars() {
  static std::atomic<uint64_t> counter{0};
  uint64_t x = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
               (static_cast<uint64_t>(::getpid()) << 32) ^ (counter.fetch_add(1) * 0x9E3779B97F4A7C15ULL);
  x ^= x >> 31;
  x *= 0xBF58476D1CE4E5B9ULL;
  x ^= x >> 27;
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::string s;
  for (std::size_t i = 0; i < kRandomChars; ++i, x /= 62) s += kAlphabet[x % 62];
  return s;
}

std::string temp_name(const std::string& target) {
  const auto [dir, name] = split(target);
  return dir + "." + name + "." + std::to_string(::getpid()) + "-" + random_chars() + std::string(kSuffix);
}

// The pid in a temporary's name for `name` ("." NAME "." PID "-" RANDOM ".logclf-tmp"), or -1.
pid_t owner_of(std::string_view entry, const std::string& name) {
  const std::size_t prefix = name.size() + 2;
  if (entry.size() <= prefix + kSuffix.size() || entry[0] != '.' || entry.substr(1, name.size()) != name ||
      entry[prefix - 1] != '.' || !entry.ends_with(kSuffix))
    return -1;
  const std::string_view middle = entry.substr(prefix, entry.size() - prefix - kSuffix.size());
  const std::size_t dash = middle.find('-');
  if (dash == 0 || dash == middle.npos || dash > 9 || middle.size() - dash - 1 != kRandomChars) return -1;
  pid_t pid = 0;
  for (char c : middle.substr(0, dash)) {
    if (c < '0' || c > '9') return -1;
    pid = pid * 10 + (c - '0');
  }
  return pid;
}

[[noreturn]] void fail(const std::string& what, const std::string& target, int error) {
  throw Error(what + " '" + target + "': " + std::strerror(error));
}

// Async-signal-safe: removes the entries directly in `path` (getdents64 and unlinkat), then the directory.
void remove_flat_directory(const char* path) {
  const int fd = ::open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd >= 0) {
    alignas(8) char buffer[4096];
    for (long n; (n = ::syscall(SYS_getdents64, fd, buffer, sizeof buffer)) > 0;) {
      for (long at = 0; at < n;) {
        // struct linux_dirent64: ino (8), off (8), reclen (2), type (1), name.
        unsigned short reclen;
        std::memcpy(&reclen, buffer + at + 16, sizeof reclen);
        const char* name = buffer + at + 19;
        if (!(name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0)))) ::unlinkat(fd, name, 0);
        at += reclen;
      }
    }
    ::close(fd);
  }
  ::rmdir(path);
}

}  // namespace

void remove_stale_temps(const std::string& target) {
  const auto [dir, name] = split(target);
  const std::unique_ptr<DIR, int (*)(DIR*)> listing(::opendir(dir.empty() ? "." : dir.c_str()), ::closedir);
  if (!listing) return;
  while (const dirent* entry = ::readdir(listing.get())) {
    const pid_t pid = owner_of(entry->d_name, name);
    if (pid <= 0 || ::kill(pid, 0) == 0 || errno != ESRCH) continue;
    const std::string path = dir + entry->d_name;
    const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) continue;
    struct stat st;
    if (::fstat(fd, &st) == 0 && ::flock(fd, LOCK_EX | LOCK_NB) == 0) {
      std::error_code ec;
      if (S_ISDIR(st.st_mode)) {
        std::filesystem::remove_all(path, ec);
      } else if (S_ISREG(st.st_mode)) {
        ::unlink(path.c_str());
      }
    }
    ::close(fd);
  }
}

TempPath create_temp_file(const std::string& target) {
  remove_stale_temps(target);
  TempPath temp;
  // Like mkstemp, but with mode 0666 so that the umask applies as for any new file (mkstemp's 0600
  // would need the umask, which cannot be read without changing it process-wide).
  for (int attempt = 0;; ++attempt) {
    temp.path = temp_name(target);
    temp.fd = ::open(temp.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (temp.fd >= 0) break;
    if (errno != EEXIST || attempt == 100) fail("cannot create a temporary file for", target, errno);
  }
  ::flock(temp.fd, LOCK_EX);
  return temp;
}

TempPath create_temp_directory(const std::string& target) {
  remove_stale_temps(target);
  TempPath temp;
  for (int attempt = 0;; ++attempt) {
    temp.path = temp_name(target);
    if (::mkdir(temp.path.c_str(), 0700) == 0) break;
    if (errno != EEXIST || attempt == 100) fail("cannot create a directory beside", target, errno);
  }
  temp.fd = ::open(temp.path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (temp.fd < 0) {
    const int error = errno;
    ::rmdir(temp.path.c_str());
    fail("cannot open the directory created beside", target, error);
  }
  ::flock(temp.fd, LOCK_EX);
  return temp;
}

int register_pending(const std::string& path, bool directory) {
  if (path.size() >= kMaxPath) return -1;
  for (int i = 0; i < kSlots; ++i) {
    int expected = kFree;
    if (g_pending[i].state.compare_exchange_strong(expected, kFilling, std::memory_order_acquire)) {
      std::memcpy(g_pending[i].path, path.c_str(), path.size() + 1);
      g_pending[i].state.store(directory ? kLiveDirectory : kLiveFile, std::memory_order_release);
      return i;
    }
  }
  return -1;
}

void unregister_pending(int slot) {
  if (slot >= 0) g_pending[slot].state.store(kFree, std::memory_order_release);
}

}  // namespace logclf::io

// Async-signal-safe: reads the fixed registry; files first, as a directory's own files may be listed.
void logclf::remove_pending_temp_files() noexcept {
  for (io::PendingSlot& slot : io::g_pending)
    if (slot.state.load(std::memory_order_acquire) == io::kLiveFile) ::unlink(slot.path);
  for (io::PendingSlot& slot : io::g_pending)
    if (slot.state.load(std::memory_order_acquire) == io::kLiveDirectory) io::remove_flat_directory(slot.path);
}
