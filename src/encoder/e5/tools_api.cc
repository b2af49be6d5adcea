// The public entry points of logclf/e5.h for the encoder's weights, over the encoder's own files.
#include "encoder/e5/config.h"
#include "encoder/e5/download.h"
#include "encoder/e5/model_files.h"
#include "encoder/e5/random_weights.h"
#include "logclf/e5.h"

namespace logclf {

namespace e5 = encoder::e5;

ModelDownloadResult download_hf_model(const ModelDownloadOptions& options) { return e5::download_model(options); }
std::string hf_repo_id(const std::string& model) { return e5::resolve_repo_id(model); }
std::string hf_cache_dir() { return e5::default_hf_cache_dir(); }
std::vector<std::string> missing_e5_files(const std::string& dir) { return e5::missing_model_files(dir); }
std::optional<std::string> find_e5_tokenizer_dir() { return e5::locate_tokenizer_dir(); }
void write_random_e5_model(const std::string& dir, std::uint64_t seed, const std::string& tokenizer_dir) {
  e5::write_random_model(dir, e5::BertConfig::e5_small_v2(), seed, tokenizer_dir);
}

}  // namespace logclf
