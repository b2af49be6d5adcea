// The E5-small-v2 encoder's weights (downloading them, random stand-ins of their shape: the library logclf)
// and its compute on this machine (compute_kernels(): logclf_core).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "logclf/encoder.h"

namespace logclf {

// The E5 kernels this CPU selects at run time (by CPUID) and the CPU features they are chosen by.
struct ComputeKernels {
  std::string fp32;  // the fp32 kernels: "fp32 avx2+fma" or "fp32 portable"
  std::string int8;  // the int8 Linear layers': "int8 avx512-vnni", "int8 avx2" or "int8 portable"
  Precision automatic = Precision::fp32;  // what Precision::auto_ means here
  // AVX2, FMA, AVX-512F, AVX512-VNNI and AVX512-BF16, in that order, and whether the CPU has each.
  std::vector<std::pair<std::string, bool>> cpu_features;
};
ComputeKernels compute_kernels();

// ---- weights ---------------------------------------------------------------------------------------------
// A model from the Hugging Face hub, stored in the hub cache's layout (where the E5 encoder and Hugging Face's
// own tools find it).
struct ModelDownloadProgress {
  std::string file;          // e.g. "model.safetensors"
  std::uint64_t done = 0;    // bytes present, including those of a resumed partial download
  std::uint64_t total = 0;   // 0 when unknown
};

struct ModelDownloadOptions {
  std::string repo_id = "intfloat/e5-small-v2";
  std::string revision = "main";
  std::string base_url;   // empty: $HF_ENDPOINT, else https://huggingface.co
  std::string cache_dir;  // empty: hf_cache_dir()
  long connect_timeout_seconds = 30;
  // A transfer slower than 1 byte/s for this long is abandoned (and resumed by the next attempt).
  long low_speed_seconds = 60;
  int attempts = 3;  // per file; later attempts resume the partial download
  std::function<void(const ModelDownloadProgress&)> progress;  // called often during transfers
};

struct ModelDownloadResult {
  std::string snapshot_dir;              // CACHE/models--OWNER--NAME/snapshots/<commit>
  std::string commit;                    // from X-Repo-Commit, else the revision name
  std::vector<std::string> downloaded;   // files fetched by this run
  std::vector<std::string> cached;       // files already complete in the cache
  std::vector<std::string> absent;       // optional files the repository does not have
};

// Fetches config.json, model.safetensors and the tokenizer files, each checked against the size and sha256
// the server reports before it gets its final name. Throws Error naming the URL and file.
ModelDownloadResult download_hf_model(const ModelDownloadOptions& options);
// "e5-small-v2" -> "intfloat/e5-small-v2"; an "owner/name" is returned as is. Throws Error otherwise.
std::string hf_repo_id(const std::string& model);
// The hub cache: $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub.
std::string hf_cache_dir();
// The files an E5 model directory lacks (config.json, model.safetensors, vocab.txt or tokenizer.json).
std::vector<std::string> missing_e5_files(const std::string& dir);
// A directory with e5-small-v2's tokenizer: $LOGCLF_E5_DIR, then the hub cache; nullopt when none.
std::optional<std::string> find_e5_tokenizer_dir();
// Writes a model directory with random weights of e5-small-v2's exact shape (seeded) and the tokenizer of
// `tokenizer_dir`: for tests and benchmarks without the real weights.
void write_random_e5_model(const std::string& dir, std::uint64_t seed, const std::string& tokenizer_dir);

}  // namespace logclf
