// Where the E5 model files are found: an explicit directory (--encoder-dir), $LOGCLF_E5_DIR, or the
// Hugging Face hub cache (the layout `logclf model download` and Hugging Face tools write).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace logclf::encoder::e5 {

inline constexpr std::string_view kE5Repo = "intfloat/e5-small-v2";

struct ModelLocation {
  std::string dir;       // holds config.json, model.safetensors and vocab.txt or tokenizer.json
  std::string found_by;  // "--encoder-dir", "$LOGCLF_E5_DIR" or "Hugging Face cache (...)"
};

// The files a model directory lacks: "config.json", "model.safetensors", "vocab.txt or tokenizer.json";
// {"the directory itself"} when `dir` is not a directory. Empty when it is complete.
std::vector<std::string> missing_model_files(const std::string& dir);

// Looks, in order, in `explicit_dir` (when not empty: it must qualify, there is no fallback), in
// $LOGCLF_E5_DIR, and in the Hugging Face cache's snapshot of `repo_id` (the revision refs/main names,
// else the newest complete snapshot). Throws Error listing every place looked at and what was missing
// there, and how to get the weights.
ModelLocation locate_model(const std::string& explicit_dir, std::string_view repo_id = kE5Repo);

// A directory holding the tokenizer (vocab.txt or tokenizer.json) of `repo_id`: $LOGCLF_E5_DIR, else a
// Hugging Face cache snapshot (refs/main first, then the newest). Weights are not needed.
std::optional<std::string> locate_tokenizer_dir(std::string_view repo_id = kE5Repo);

// $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub (Hugging Face's own rule).
std::string default_hf_cache_dir();
// The cache folder of a model repository: CACHE/models--OWNER--NAME.
std::string hf_repo_cache_dir(const std::string& cache_dir, std::string_view repo_id);

}  // namespace logclf::encoder::e5
