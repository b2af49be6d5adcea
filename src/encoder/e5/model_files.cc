#include "encoder/e5/model_files.h"

#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "logclf/types.h"

namespace logclf::encoder::e5 {
namespace fs = std::filesystem;
namespace {

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

std::string home_dir() {
  if (std::string home = env("HOME"); !home.empty()) return home;
  if (const passwd* pw = ::getpwuid(::getuid()); pw != nullptr && pw->pw_dir != nullptr) return pw->pw_dir;
  return ".";
}

// Hugging Face expands a leading "~" in its environment variables.
std::string expand_user(const std::string& path) {
  if (path == "~" || path.starts_with("~/")) return home_dir() + path.substr(1);
  return path;
}

bool is_file(const fs::path& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec);  // follows symlinks: a dangling blob link counts as missing
}

bool has_tokenizer(const fs::path& dir) { return is_file(dir / "vocab.txt") || is_file(dir / "tokenizer.json"); }

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) out += (i == 0 ? "" : ", ") + items[i];
  return out;
}

std::string short_name(std::string_view repo_id) {
  const std::size_t slash = repo_id.rfind('/');
  return std::string(slash == std::string_view::npos ? repo_id : repo_id.substr(slash + 1));
}

struct Snapshot {
  fs::path dir;
  std::string why;  // "refs/main" or "newest snapshot"
};

// The snapshots of a cached repository in preference order: the one refs/main names first, then the
// others newest first. Describes what it found in `looked` when there is nothing to try.
std::vector<Snapshot> cache_snapshots(std::string_view repo_id, std::vector<std::string>& looked) {
  const fs::path repo = hf_repo_cache_dir(default_hf_cache_dir(), repo_id);
  const fs::path snapshots = repo / "snapshots";
  std::error_code ec;
  if (!fs::is_directory(snapshots, ec)) {
    looked.push_back("Hugging Face cache " + repo.string() + ": absent");
    return {};
  }
  std::string main_commit;
  if (std::ifstream ref(repo / "refs" / "main"); ref) std::getline(ref, main_commit);
  main_commit.erase(main_commit.find_last_not_of(" \t\r\n") + 1);

  std::vector<std::pair<fs::file_time_type, fs::path>> others;
  std::vector<Snapshot> out;
  for (const fs::directory_entry& entry : fs::directory_iterator(snapshots, ec)) {
    if (!entry.is_directory(ec)) continue;
    if (!main_commit.empty() && entry.path().filename() == main_commit)
      out.insert(out.begin(), Snapshot{entry.path(), "refs/main"});
    else
      others.emplace_back(entry.last_write_time(ec), entry.path());
  }
  std::sort(others.begin(), others.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  for (const auto& [time, dir] : others) out.push_back(Snapshot{dir, "newest snapshot"});
  if (out.empty()) looked.push_back("Hugging Face cache " + snapshots.string() + ": no snapshot");
  return out;
}

}  // namespace

std::vector<std::string> missing_model_files(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return {"the directory itself"};
  std::vector<std::string> missing;
  if (!is_file(fs::path(dir) / "config.json")) missing.push_back("config.json");
  if (!is_file(fs::path(dir) / "model.safetensors")) missing.push_back("model.safetensors");
  if (!has_tokenizer(dir)) missing.push_back("vocab.txt or tokenizer.json");
  return missing;
}

std::string default_hf_cache_dir() {
  if (std::string hub = env("HF_HUB_CACHE"); !hub.empty()) return expand_user(hub);
  if (std::string home = env("HF_HOME"); !home.empty()) return (fs::path(expand_user(home)) / "hub").string();
  std::string xdg = env("XDG_CACHE_HOME");
  const fs::path cache = xdg.empty() ? fs::path(home_dir()) / ".cache" : fs::path(expand_user(xdg));
  return (cache / "huggingface" / "hub").string();
}

std::string hf_repo_cache_dir(const std::string& cache_dir, std::string_view repo_id) {
  std::string folder = "models--" + std::string(repo_id);
  for (std::size_t at = folder.find('/'); at != std::string::npos; at = folder.find('/', at))
    folder.replace(at, 1, "--");
  return (fs::path(cache_dir) / folder).string();
}

ModelLocation locate_model(const std::string& explicit_dir, std::string_view repo_id) {
  if (!explicit_dir.empty()) {
    const auto missing = missing_model_files(explicit_dir);
    if (missing.empty()) return {explicit_dir, "--encoder-dir"};
    if (missing.front() == "the directory itself")
      throw Error("encoder directory " + explicit_dir + " does not exist or is not a directory");
    throw Error("encoder directory " + explicit_dir + " is not a model directory: missing " + join(missing));
  }

  std::vector<std::string> looked;
  if (const std::string dir = env("LOGCLF_E5_DIR"); dir.empty()) {
    looked.push_back("$LOGCLF_E5_DIR: not set");
  } else if (const auto missing = missing_model_files(dir); missing.empty()) {
    return {dir, "$LOGCLF_E5_DIR"};
  } else {
    looked.push_back("$LOGCLF_E5_DIR=" + dir + ": missing " + join(missing));
  }

  for (const Snapshot& s : cache_snapshots(repo_id, looked)) {
    const auto missing = missing_model_files(s.dir.string());
    if (missing.empty()) return {s.dir.string(), "Hugging Face cache (" + s.why + ")"};
    looked.push_back("Hugging Face cache " + s.dir.string() + " (" + s.why + "): missing " + join(missing));
  }

  std::string message = "no " + short_name(repo_id) + " model found (" + std::string(repo_id) + "). Looked in:\n";
  for (const std::string& place : looked) message += "  - " + place + "\n";
  message += "Get the weights with `logclf model download " + short_name(repo_id) +
             "`, or pass --encoder-dir DIR (or set LOGCLF_E5_DIR=DIR) for a directory holding config.json, "
             "model.safetensors and vocab.txt or tokenizer.json.";
  throw Error(message);
}

std::optional<std::string> locate_tokenizer_dir(std::string_view repo_id) {
  if (const std::string dir = env("LOGCLF_E5_DIR"); !dir.empty() && has_tokenizer(dir)) return dir;
  std::vector<std::string> looked;
  for (const Snapshot& s : cache_snapshots(repo_id, looked))
    if (has_tokenizer(s.dir)) return s.dir.string();
  return std::nullopt;
}

}  // namespace logclf::encoder::e5
