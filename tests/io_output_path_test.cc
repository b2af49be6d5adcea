// Output paths: what `-o PATH` does to what is already at PATH (regular file, symbolic link, FIFO, device,
// socket, directory), and temporaries left by killed runs, removed by the next run.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "io/atomic_file.h"
#include "io/temp_path.h"
#include "logclf/io.h"
#include "support/run.h"

namespace logclf {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;
using testing::read_text;
using testing::TempDir;

std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

// A pid that belonged to a process that has exited and been reaped.
pid_t dead_pid() {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  ::waitpid(pid, nullptr, 0);
  return pid;
}

std::string temp_name_of(const std::string& name, pid_t pid, const std::string& random = "abcdef") {
  return "." + name + "." + std::to_string(pid) + "-" + random + ".logclf-tmp";
}

TEST(OutputPath, ASymbolicLinkStaysALinkAndItsTargetIsReplaced) {
  TempDir dir;
  fs::create_directory(dir.path() / "data");
  std::ofstream(dir / "data/out.csv") << "old\n";
  fs::create_symlink("data/out.csv", dir.path() / "link.csv");
  write_file_atomic(dir / "link.csv", "new\n");
  EXPECT_TRUE(fs::is_symlink(dir.path() / "link.csv"));
  EXPECT_EQ(read_text(dir.path() / "data/out.csv"), "new\n");
  EXPECT_THAT(names_in(dir.path()), ElementsAre("data", "link.csv"));
  EXPECT_THAT(names_in(dir.path() / "data"), ElementsAre("out.csv"));  // the temporary was beside the target
}

TEST(OutputPath, ADanglingLinkCreatesItsTarget) {
  TempDir dir;
  fs::create_symlink("made.csv", dir.path() / "link.csv");
  write_file_atomic(dir / "link.csv", "x\n");
  EXPECT_TRUE(fs::is_symlink(dir.path() / "link.csv"));
  EXPECT_EQ(read_text(dir.path() / "made.csv"), "x\n");
}

TEST(OutputPath, AFifoIsWrittenAsAStreamAndStaysAFifo) {
  TempDir dir;
  const std::string fifo = dir / "out.fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto reader = std::async(std::launch::async, [&] { return read_text(fifo); });
  {
    io::AtomicFile out(fifo);
    EXPECT_EQ(out.temp_path(), "");
    out.write("first\n");
    out.write("second\n");
    out.commit();
  }
  EXPECT_EQ(reader.get(), "first\nsecond\n");
  struct stat st;
  ASSERT_EQ(::lstat(fifo.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_THAT(names_in(dir.path()), ElementsAre("out.fifo"));
}

TEST(OutputPath, ACharacterDeviceIsWrittenInPlace) {
  // /dev/full: the write fails with the device's own error (as root, a rename used to replace the device
  // with a regular file; as another user, creating a temporary in /dev failed with a misleading error).
  struct stat before;
  if (::stat("/dev/full", &before) != 0 || !S_ISCHR(before.st_mode)) GTEST_SKIP() << "SKIPPED: no /dev/full here";
  try {
    write_file_atomic("/dev/full", "data");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "/dev/full: write error: No space left on device");
  }
  struct stat after;
  ASSERT_EQ(::stat("/dev/full", &after), 0);
  EXPECT_TRUE(S_ISCHR(after.st_mode));
  EXPECT_EQ(after.st_rdev, before.st_rdev);
  write_file_atomic("/dev/null", "data");  // and a device that takes it
}

TEST(OutputPath, AUnixSocketIsConnectedTo) {
  TempDir dir;
  const std::string path = dir / "out.sock";
  const int listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  ASSERT_LT(path.size(), sizeof address.sun_path);
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  ASSERT_EQ(::bind(listener, reinterpret_cast<const sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(listener, 1), 0);
  auto received = std::async(std::launch::async, [&] {
    const int connection = ::accept(listener, nullptr, nullptr);
    std::string text;
    char buffer[256];
    for (ssize_t n; (n = ::read(connection, buffer, sizeof buffer)) > 0;) text.append(buffer, static_cast<std::size_t>(n));
    ::close(connection);
    return text;
  });
  write_file_atomic(path, "over the socket\n");
  EXPECT_EQ(received.get(), "over the socket\n");
  ::close(listener);
}

TEST(OutputPath, ADirectoryIsAnErrorThroughALinkToo) {
  TempDir dir;
  fs::create_directory(dir.path() / "sub");
  fs::create_symlink("sub", dir.path() / "link");
  EXPECT_THROW(write_file_atomic(dir / "link", "x"), Error);
  EXPECT_THAT(names_in(dir.path()), ElementsAre("link", "sub"));
  EXPECT_TRUE(fs::is_empty(dir.path() / "sub"));
}

TEST(StaleTemporaries, ThoseOfADeadWriterAreRemovedByTheNextWrite) {
  TempDir dir;
  const pid_t dead = dead_pid();
  // Stale: a file and a bundle directory of writers that are gone.
  std::ofstream(dir / temp_name_of("out.csv", dead)) << "half a file";
  fs::create_directory(dir.path() / temp_name_of("model", dead, "ghijkl"));
  std::ofstream(dir / (temp_name_of("model", dead, "ghijkl") + "/head.bin")) << "x";
  // Not stale: a live writer (this process) and another target's temporary, and names that only look alike.
  const std::string live = temp_name_of("out.csv", ::getpid(), "zzzzzz");
  std::ofstream(dir / live) << "in progress";
  const std::string other = temp_name_of("other.csv", dead);
  std::ofstream(dir / other) << "not ours";
  std::ofstream(dir / ".out.csv.12x-abcdef.logclf-tmp") << "not a pid";
  std::ofstream(dir / ".out.csv.tmp.abcdef") << "an older naming";

  write_file_atomic(dir / "out.csv", "done\n");
  EXPECT_THAT(names_in(dir.path()),
              UnorderedElementsAre(live, temp_name_of("model", dead, "ghijkl"), ".out.csv.12x-abcdef.logclf-tmp",
                                   ".out.csv.tmp.abcdef", other, "out.csv"));
  io::remove_stale_temps(dir / "model");
  EXPECT_FALSE(fs::exists(dir.path() / temp_name_of("model", dead, "ghijkl")));
}

TEST(StaleTemporaries, ALockedOneIsKeptEvenWhenItsPidLooksDead) {
  // A writer in another pid namespace has a pid this process cannot see: its lock protects it.
  TempDir dir;
  const std::string name = temp_name_of("out.csv", dead_pid());
  const int fd = ::open((dir / name).c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  ASSERT_GE(fd, 0);
  const pid_t holder = ::fork();
  if (holder == 0) {  // the lock belongs to another open file description, as another writer's would
    const int own = ::open((dir / name).c_str(), O_RDONLY);
    ::flock(own, LOCK_EX);
    ::pause();
    ::_exit(0);
  }
  ::close(fd);
  for (int i = 0; i < 200; ++i) {  // until the child holds the lock
    const int probe = ::open((dir / name).c_str(), O_RDONLY);
    const bool held = ::flock(probe, LOCK_EX | LOCK_NB) != 0;
    ::close(probe);
    if (held) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  io::remove_stale_temps(dir / "out.csv");
  EXPECT_TRUE(fs::exists(dir.path() / name));
  ::kill(holder, SIGKILL);
  ::waitpid(holder, nullptr, 0);
  io::remove_stale_temps(dir / "out.csv");
  EXPECT_FALSE(fs::exists(dir.path() / name));
}

TEST(StaleTemporaries, ASignalHandlerRemovesABundleDirectoryBeingWritten) {
  TempDir dir;
  io::TempPath temp = io::create_temp_directory(dir / "model");
  const int slot = io::register_pending(temp.path, /*directory=*/true);
  std::ofstream(temp.path + "/metadata.json") << "{}";
  std::ofstream(temp.path + "/head.bin") << "xx";
  EXPECT_EQ(names_in(dir.path()).size(), 1u);
  remove_pending_temp_files();
  EXPECT_TRUE(names_in(dir.path()).empty());
  io::unregister_pending(slot);
  ::close(temp.fd);
}

// kill -9 of `classify` writing a file leaves its temporary; the next run to the same output removes it.
TEST(StaleTemporaries, KillNineOfClassifyLeavesATemporaryTheNextRunRemoves) {
  TempDir dir;
  {
    std::ofstream in(dir / "in.txt");
    for (int i = 0; i < 1000000; ++i) in << "User User" << i << " logged in from 10.0.0." << i % 250 << "\n";
  }
  const pid_t pid = ::fork();
  if (pid == 0) {
    const std::string cli = testing::cli(), in = dir / "in.txt", out = dir / "out.txt";
    ::execl(cli.c_str(), cli.c_str(), "classify", in.c_str(), "-o", out.c_str(), "-q", "--cache", "off",
            "--workers", "1", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  std::string temp;
  for (int i = 0; i < 2000 && temp.empty(); ++i) {  // until the temporary has data in it
    for (const std::string& name : names_in(dir.path()))
      if (name.ends_with(".logclf-tmp") && fs::file_size(dir.path() / name) > 0) temp = name;
    if (temp.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_FALSE(temp.empty()) << "classify finished before a temporary was seen";
  ASSERT_TRUE(WIFSIGNALED(status)) << "classify finished before it was killed";
  EXPECT_THAT(temp, HasSubstr(".out.txt." + std::to_string(pid) + "-"));
  EXPECT_THAT(names_in(dir.path()), ElementsAre(temp, "in.txt"));

  const auto again = testing::run(testing::cli() + " classify " + (dir / "in.txt") + " -o " + (dir / "out.txt") + " -q");
  ASSERT_EQ(again.status, 0) << again.output;
  EXPECT_THAT(names_in(dir.path()), ElementsAre("in.txt", "out.txt"));
}

}  // namespace
}  // namespace logclf
