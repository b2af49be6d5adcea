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

#include "logclf/e5.h"

namespace logclf::encoder::e5 {

// The public types (logclf/e5.h), under the names this file has always used.
using DownloadProgress = ModelDownloadProgress;
using DownloadOptions = ModelDownloadOptions;
using DownloadResult = ModelDownloadResult;

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
