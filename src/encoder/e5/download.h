// Downloading a model from the Hugging Face hub (`logclf model download e5-small-v2`) into the hub cache
// layout, so that Hugging Face tools and locate_model() both find it:
//   CACHE/models--OWNER--NAME/blobs/<etag>                    the file contents (LFS: etag = sha256)
//   CACHE/models--OWNER--NAME/snapshots/<commit>/<file>       relative symlink to ../../blobs/<etag>
//   CACHE/models--OWNER--NAME/refs/<revision>                 the commit the revision resolved to
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace logclf::encoder::e5 {

struct DownloadProgress {
  std::string file;          // e.g. "model.safetensors"
  std::uint64_t done = 0;    // bytes present, including those of a resumed partial download
  std::uint64_t total = 0;   // 0 when unknown
};

struct DownloadOptions {
  std::string repo_id = "intfloat/e5-small-v2";
  std::string revision = "main";
  std::string base_url;   // empty: $HF_ENDPOINT, else https://huggingface.co
  std::string cache_dir;  // empty: default_hf_cache_dir()
  long connect_timeout_seconds = 30;
  // A transfer slower than 1 byte/s for this long is abandoned (and resumed by the next attempt).
  long low_speed_seconds = 60;
  int attempts = 3;  // per file; later attempts resume the partial download
  std::function<void(const DownloadProgress&)> progress;  // called often during transfers
};

struct DownloadResult {
  std::string snapshot_dir;              // CACHE/models--OWNER--NAME/snapshots/<commit>
  std::string commit;                    // from X-Repo-Commit, else the revision name
  std::vector<std::string> downloaded;   // files fetched by this run
  std::vector<std::string> cached;       // files already complete in the cache
  std::vector<std::string> absent;       // optional files the repository does not have
};

// Fetches config.json, model.safetensors, vocab.txt, tokenizer.json, tokenizer_config.json and
// special_tokens_map.json (config, weights and vocab.txt or tokenizer.json are required). Each file is
// checked against the size and sha256 the server reports (for e5-small-v2's weights, the known sha256
// when the server reports none) before it gets its final name. Throws Error naming the URL and file.
DownloadResult download_model(const DownloadOptions& options);

// "e5-small-v2" -> "intfloat/e5-small-v2"; an "owner/name" is returned as is. Throws Error otherwise.
std::string resolve_repo_id(const std::string& model);

// The lowercase hex sha256 of a file's contents.
std::string sha256_file(const std::string& path);

}  // namespace logclf::encoder::e5
