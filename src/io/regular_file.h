// Reading a file that the program does not control (a model bundle's parts, a rules file, E5's config and
// vocabulary) without trusting it: it must be a regular file (a symlink to one is followed) no larger than a
// limit, or of an exact announced size, checked before a byte is read; so /dev/zero, a FIFO or a huge file
// in its place fails at once instead of filling memory or blocking.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace logclf::io {

struct FileSize {
  explicit FileSize(std::uint64_t max) : max(max) {}
  FileSize(std::uint64_t max, std::uint64_t exact, std::string announced)
      : max(max), exact(exact), announced(std::move(announced)) {}

  std::uint64_t max;
  std::optional<std::uint64_t> exact;
  std::string announced;  // why `exact`: "the metadata announces 9 classes x 46170 features"
};

// Text files a user or a model brings (rules, configurations, vocabularies) hold at most this much.
inline constexpr std::uint64_t kMaxTextFileBytes = std::uint64_t{16} << 20;

// The contents of `path`. Throws Error when it is missing, not a regular file, not of `size`, or changes
// size while it is read. Messages are "WHERE: NAME is not a regular file (a FIFO)" and "WHERE is missing
// NAME", or with `where` empty "'PATH' is not a regular file (a FIFO)" and "cannot open 'PATH': No such file
// or directory".
std::string read_regular_file(const std::string& path, const FileSize& size, const std::string& where = "",
                              const std::string& name = "");
// nullopt when `path` does not exist; otherwise as read_regular_file().
std::optional<std::string> read_regular_file_if_exists(const std::string& path, const FileSize& size);

}  // namespace logclf::io
