// `logclf model info` (a bundle's metadata), `logclf model download` (weights from the Hugging Face hub into
// its cache) and `logclf model random` (a model directory of E5's exact shape with random weights).
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "command.h"
#include "logclf/classifier.h"
#include "logclf/e5.h"
#include "logclf/types.h"

namespace logclf::cli {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// The metadata as the bundle has it, but for the precision of an E5 model's vectors, which bundles written
// before int8 do not record: theirs were fp32.
std::string describe_metadata(nlohmann::json meta) {
  const auto kind = nlohmann::json::json_pointer("/encoder/kind");
  const auto precision = nlohmann::json::json_pointer("/encoder/params/precision");
  if (meta.contains(kind) && meta.at(kind) == kE5Encoder && meta.contains(precision.parent_pointer()) &&
      !meta.contains(precision))
    meta[precision] = to_string(Precision::fp32);
  return meta.dump(2);
}

// Reads the metadata file only, so that a model on the E5 encoder is described without its weights.
int run_model_info(const std::string& model_dir, const std::string& encoder_kind) {
  if (model_dir.empty()) {
    fmt::print("{}\n", describe_metadata(nlohmann::json::parse(
                           Classifier::builtin_metadata_json(encoder_kind.empty() ? kLexicalEncoder : encoder_kind))));
    return 0;
  }
  const std::string path = (std::filesystem::path(model_dir) / "logclf-model.json").string();
  std::ifstream in(path);
  if (!in) throw Error("'" + model_dir + "' holds no logclf model (" + path + " cannot be read)");
  try {
    fmt::print("{}\n", describe_metadata(nlohmann::json::parse(in)));
  } catch (const nlohmann::json::parse_error& e) {
    throw Error(path + ": invalid JSON: " + e.what());
  }
  return 0;
}

struct DownloadArgs {
  std::string model;
  std::string base_url;
  std::string revision = "main";
  std::string cache_dir;
};

std::string megabytes(std::uint64_t bytes) { return fmt::format("{:.1f} MB", bytes / 1e6); }

// One progress line on stderr, redrawn at most five times a second.
class ProgressLine {
 public:
  void update(const ModelDownloadProgress& p) {
    const auto now = Clock::now();
    if (p.file != file_) {
      file_ = p.file;
      start_ = now;
      start_bytes_ = p.done;
    } else if (now - last_ < std::chrono::milliseconds(200) && p.done != p.total) {
      return;
    }
    last_ = now;
    const double seconds = std::chrono::duration<double>(now - start_).count();
    const double rate = seconds > 0 ? (p.done - start_bytes_) / seconds : 0.0;
    if (p.total > 0)
      std::fprintf(stderr, "\r\033[K%s  %s / %s  %3.0f%%  %.1f MB/s", p.file.c_str(), megabytes(p.done).c_str(),
                   megabytes(p.total).c_str(), 100.0 * p.done / p.total, rate / 1e6);
    else
      std::fprintf(stderr, "\r\033[K%s  %s  %.1f MB/s", p.file.c_str(), megabytes(p.done).c_str(), rate / 1e6);
    shown_ = true;
  }
  void clear() {
    if (shown_) std::fputs("\r\033[K", stderr);
    shown_ = false;
  }

 private:
  std::string file_;
  Clock::time_point start_, last_;
  std::uint64_t start_bytes_ = 0;
  bool shown_ = false;
};

int run_download(const DownloadArgs& a) {
  ModelDownloadOptions options;
  options.repo_id = hf_repo_id(a.model);
  options.revision = a.revision;
  options.base_url = a.base_url;
  options.cache_dir = a.cache_dir.empty() ? hf_cache_dir() : a.cache_dir;
  auto line = std::make_shared<ProgressLine>();
  if (isatty(STDERR_FILENO)) options.progress = [line](const ModelDownloadProgress& p) { line->update(p); };
  ModelDownloadResult result;
  try {
    result = download_hf_model(options);
  } catch (...) {
    line->clear();
    throw;
  }
  line->clear();
  for (const std::string& f : result.downloaded) fmt::print("downloaded {}\n", f);
  for (const std::string& f : result.cached) fmt::print("already in the cache: {}\n", f);
  for (const std::string& f : result.absent) fmt::print("not in the repository (optional): {}\n", f);
  fmt::print("{} at commit {} stored in {}\n", options.repo_id, result.commit, result.snapshot_dir);
  if (!a.cache_dir.empty() && fs::path(a.cache_dir) != fs::path(hf_cache_dir()))
    fmt::print("(not the default cache: use --encoder-dir {} or set HF_HUB_CACHE={})\n", result.snapshot_dir,
               a.cache_dir);
  return 0;
}

struct RandomArgs {
  std::string like;
  std::string dir;
  std::uint64_t seed = 0;
  std::string tokenizer_dir;
};

int run_random(const RandomArgs& a) {
  std::error_code ec;
  if (fs::exists(a.dir, ec) && !fs::is_directory(a.dir, ec)) throw Error(a.dir + " exists and is not a directory");
  if (fs::exists(a.dir, ec) && !fs::is_empty(a.dir, ec) && !missing_e5_files(a.dir).empty())
    throw Error(a.dir + " is not empty and is not a model directory; refusing to overwrite it");
  std::string tokenizer_dir = a.tokenizer_dir;
  if (tokenizer_dir.empty()) {
    const auto found = find_e5_tokenizer_dir();
    if (!found)
      throw Error("no e5-small-v2 tokenizer found ($LOGCLF_E5_DIR and the Hugging Face cache have no vocab.txt or "
                  "tokenizer.json): pass --tokenizer-dir DIR, e.g. a directory holding e5-small-v2's vocab.txt");
    tokenizer_dir = *found;
  }
  write_random_e5_model(a.dir, a.seed, tokenizer_dir);
  fmt::print("wrote random weights shaped like {} (seed {}) to {}, tokenizer from {}\n", a.like, a.seed, a.dir,
             tokenizer_dir);
  return 0;
}

}  // namespace

void add_model_commands(CLI::App& app, Commands& commands) {
  auto* model_cmd_ptr = app.add_subcommand("model", "inspect, download and make model bundles");
  CLI::App& model_cmd = *model_cmd_ptr;
  model_cmd.require_subcommand(1);
  struct InfoArgs {
    std::string model, encoder;
  };
  auto info_args = std::make_shared<InfoArgs>();
  auto* model_info = model_cmd.add_subcommand("info", "print a bundle's metadata (labels, threshold, training metrics)");
  model_info->add_option("-m,--model", info_args->model, "model directory (default: the built-in model)");
  model_info->add_option("--encoder", info_args->encoder, "the built-in model of this encoder (lexical or e5-small-v2)")
      ->check(CLI::IsMember({std::string(kLexicalEncoder), std::string(kE5Encoder)}))
      ->excludes("--model");
  commands.push_back({model_info, [info_args] { return run_model_info(info_args->model, info_args->encoder); }});

  auto download_args = std::make_shared<DownloadArgs>();
  auto* download = model_cmd.add_subcommand(
      "download", "download a model from the Hugging Face hub into its cache (where the E5 encoder finds it)");
  download->add_option("MODEL", download_args->model, "e5-small-v2, or a Hugging Face repository OWNER/NAME")
      ->required();
  download->add_option("--base-url", download_args->base_url,
                       "hub address (default: $HF_ENDPOINT, else https://huggingface.co)");
  download->add_option("--revision", download_args->revision, "branch, tag or commit")->capture_default_str();
  download->add_option("--cache-dir", download_args->cache_dir,
                       "Hugging Face hub cache (default: $HF_HUB_CACHE, else $HF_HOME/hub, else "
                       "~/.cache/huggingface/hub)");
  commands.push_back({download, [download_args] { return run_download(*download_args); }});

  auto random_args = std::make_shared<RandomArgs>();
  auto* random =
      model_cmd.add_subcommand("random", "write a model directory with random weights of a model's exact shape");
  random->add_option("--like", random_args->like, "the model whose shape to copy")
      ->required()
      ->check(CLI::IsMember({"e5-small-v2"}));
  random->add_option("DIR", random_args->dir, "model directory to write")->required();
  random->add_option("--seed", random_args->seed, "random seed")->capture_default_str();
  random->add_option("--tokenizer-dir", random_args->tokenizer_dir,
                     "directory with the tokenizer files to copy (default: $LOGCLF_E5_DIR or the Hugging Face cache)");
  commands.push_back({random, [random_args] { return run_random(*random_args); }});
}

}  // namespace logclf::cli
