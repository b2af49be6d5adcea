// Files the program does not control are read only when they are regular files of a bounded size: a FIFO,
// /dev/zero or an oversized file in their place fails at once, naming the file.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "encoder/e5/config.h"
#include "io/regular_file.h"
#include "logclf/rules.h"
#include "logclf/types.h"
#include "support/run.h"

namespace logclf {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(RegularFile, ReadsARegularFileAndFollowsALinkToOne) {
  TempDir dir;
  std::ofstream(dir / "a.txt") << "hello\n";
  fs::create_symlink("a.txt", dir.path() / "link.txt");
  EXPECT_EQ(io::read_regular_file(dir / "link.txt", io::FileSize(6)), "hello\n");
  EXPECT_EQ(io::read_regular_file_if_exists(dir / "none.txt", io::FileSize(6)), std::nullopt);
}

TEST(RegularFile, RefusesWhatIsNotARegularFileOrTooLarge) {
  TempDir dir;
  const std::string fifo = dir / "f.yaml";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  fs::create_symlink("/dev/zero", dir.path() / "zero.json");
  std::ofstream(dir / "big.txt") << std::string(100, 'x');
  EXPECT_EQ(error_of([&] { io::read_regular_file(fifo, io::FileSize(1 << 20)); }),
            "'" + fifo + "' is not a regular file (a FIFO)");
  EXPECT_EQ(error_of([&] { io::read_regular_file(dir / "zero.json", io::FileSize(1 << 20)); }),
            "'" + (dir / "zero.json") + "' is not a regular file (a character device)");
  EXPECT_EQ(error_of([&] { io::read_regular_file(dir / "big.txt", io::FileSize(99)); }),
            "'" + (dir / "big.txt") + "' is 100 bytes, more than the 99 bytes it may have");
  EXPECT_EQ(error_of([&] { io::read_regular_file(dir / "none.txt", io::FileSize(99)); }),
            "cannot open '" + (dir / "none.txt") + "': No such file or directory");
  EXPECT_EQ(error_of([&] { io::read_regular_file(dir.path().string(), io::FileSize(99)); }),
            "'" + dir.path().string() + "' is not a regular file (a directory)");
}

TEST(RegularFile, ARulesFileOrAnE5ConfigThatIsAFifoOrADeviceFailsAtOnce) {
  // Before, a FIFO rules file blocked forever and /dev/zero as config.json grew until memory ran out.
  TempDir dir;
  const std::string fifo = dir / "rules.yaml";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(error_of([&] { RuleSet::load(fifo); }), "'" + fifo + "' is not a regular file (a FIFO)");
  fs::create_symlink("/dev/zero", dir.path() / "config.json");
  EXPECT_EQ(error_of([&] { encoder::e5::BertConfig::load(dir / "config.json"); }),
            "'" + (dir / "config.json") + "' is not a regular file (a character device)");
}

}  // namespace
}  // namespace logclf
