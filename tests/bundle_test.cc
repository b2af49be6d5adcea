// Reading a model bundle directory: every file must be a regular file of a size known before it is read, so
// a symlink to a device, a FIFO or a file of the wrong size fails at once with an error naming it.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <future>
#include <nlohmann/json.hpp>
#include <string>

#include "logclf/classifier.h"
#include "support/paths.h"
#include "support/run.h"

namespace logclf {
namespace {

namespace fs = std::filesystem;

// A copy of the built-in lexical bundle (models/default) to damage.
class BundleFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::copy(testing::source_dir() / "models/default", model_);
    const auto meta = nlohmann::json::parse(testing::read_text(model_ + "/logclf-model.json"));
    classes_ = meta["head"]["classes"].get<std::uint64_t>();
    features_ = meta["head"]["features"].get<std::uint64_t>();
    // docs/FORMATS.md: magic, u32 classes, u64 features, then (features + 1) x classes f32.
    head_size_ = 8 + 4 + 8 + (features_ + 1) * classes_ * 4;
    ASSERT_EQ(fs::file_size(model_ + "/head.bin"), head_size_);
  }

  // The message of the error loading the bundle gives, or a failure when it loads.
  std::string load_error() {
    try {
      Classifier::load(model_);
    } catch (const Error& e) {
      return e.what();
    }
    ADD_FAILURE() << "the damaged bundle loaded";
    return {};
  }

  std::string prefix() const { return "model bundle '" + model_ + "': "; }

  testing::TempDir dir_;
  const std::string model_ = dir_ / "model";
  std::uint64_t classes_ = 0, features_ = 0, head_size_ = 0;
};

TEST_F(BundleFiles, AnIntactCopyLoads) {
  const Classifier loaded = Classifier::load(model_);
  const Classifier builtin = Classifier::load_default();
  EXPECT_EQ(loaded.labels(), builtin.labels());
  const Prediction a = loaded.classify("Disk quota at 91 percent on volume 7");
  const Prediction b = builtin.classify("Disk quota at 91 percent on volume 7");
  EXPECT_EQ(a.label, b.label);
  EXPECT_EQ(a.probabilities, b.probabilities);
}

TEST_F(BundleFiles, ASymlinkToARegularFileIsFollowed) {
  fs::rename(model_ + "/head.bin", dir_ / "head-elsewhere.bin");
  fs::create_symlink(dir_ / "head-elsewhere.bin", model_ + "/head.bin");
  EXPECT_NO_THROW(Classifier::load(model_));
}

// Read without a limit, /dev/zero grows the process until memory runs out.
TEST_F(BundleFiles, ASymlinkToDevZeroFailsAtOnce) {
  fs::remove(model_ + "/head.bin");
  fs::create_symlink("/dev/zero", model_ + "/head.bin");
  EXPECT_EQ(load_error(), prefix() + "head.bin is not a regular file (a character device)");
}

// Opened without O_NONBLOCK, a FIFO blocks until something writes to it.
TEST_F(BundleFiles, AFifoFailsWithoutBlocking) {
  const std::string fifo = model_ + "/rules.yaml";
  fs::remove(fifo);
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto error = std::async(std::launch::async, [&] { return load_error(); });
  if (error.wait_for(std::chrono::seconds(30)) == std::future_status::timeout) {
    ADD_FAILURE() << "loading blocked on the FIFO";
    // Opening the writing end and closing it ends the blocked reader with end of file.
    const int fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
    if (fd >= 0) ::close(fd);
  }
  EXPECT_EQ(error.get(), prefix() + "rules.yaml is not a regular file (a FIFO)");
}

TEST_F(BundleFiles, ADirectoryInPlaceOfAFileIsRefused) {
  fs::remove(model_ + "/encoder.bin");
  fs::create_directory(model_ + "/encoder.bin");
  EXPECT_EQ(load_error(), prefix() + "encoder.bin is not a regular file (a directory)");
}

TEST_F(BundleFiles, AHeadOfAnotherSizeThanAnnouncedIsRefusedBeforeItIsRead) {
  const std::string announced = ", the metadata announces " + std::to_string(classes_) + " classes x " +
                                std::to_string(features_) + " features = " + std::to_string(head_size_) + " bytes";
  fs::resize_file(model_ + "/head.bin", head_size_ - 4);
  EXPECT_EQ(load_error(), prefix() + "head.bin is " + std::to_string(head_size_ - 4) + " bytes" + announced);
  fs::resize_file(model_ + "/head.bin", head_size_ + 4);
  EXPECT_EQ(load_error(), prefix() + "head.bin is " + std::to_string(head_size_ + 4) + " bytes" + announced);
  // Far larger (sparse: no disk used): refused from its size alone.
  fs::resize_file(model_ + "/head.bin", std::uint64_t{1} << 40);
  EXPECT_EQ(load_error(), prefix() + "head.bin is 1099511627776 bytes" + announced);
}

TEST_F(BundleFiles, AnEncoderOfAnotherSizeThanAnnouncedIsRefused) {
  // docs/FORMATS.md: magic, u64 n, then n x (u64 hash, f32 idf, u8 group).
  const std::uint64_t size = 8 + 8 + features_ * 13;
  ASSERT_EQ(fs::file_size(model_ + "/encoder.bin"), size);
  fs::resize_file(model_ + "/encoder.bin", size - 1);
  EXPECT_EQ(load_error(), prefix() + "encoder.bin is " + std::to_string(size - 1) + " bytes, the metadata announces " +
                              std::to_string(features_) + " features = " + std::to_string(size) + " bytes");
}

TEST_F(BundleFiles, TextFilesAreCappedAt16MiB) {
  fs::resize_file(model_ + "/rules.yaml", (std::uint64_t{16} << 20) + 1);
  EXPECT_EQ(load_error(), prefix() + "rules.yaml is 16777217 bytes, more than the 16777216 bytes it may have");
  fs::resize_file(model_ + "/logclf-model.json", (std::uint64_t{16} << 20) + 1);
  EXPECT_EQ(load_error(), prefix() + "logclf-model.json is 16777217 bytes, more than the 16777216 bytes it may have");
}

TEST_F(BundleFiles, AMissingFileIsNamed) {
  fs::remove(model_ + "/rules.yaml");
  EXPECT_EQ(load_error(), "model bundle '" + model_ + "' is missing rules.yaml");
}

}  // namespace
}  // namespace logclf
