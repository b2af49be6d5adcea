// Fuzzes the E5 WordPiece tokenizer: any bytes encode without crashing, and the ids keep their invariants
// ([CLS] first, [SEP] last, every id in the vocabulary, max_length respected, truncation = a prefix of the
// untruncated ids). The first input byte picks max_length. Uses ../shared/models/e5-small-v2 (or
// $LOGCLF_SHARED_DIR/models/e5-small-v2) when present, else a small built-in vocabulary.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "encoder/e5/wordpiece.h"

namespace {

using logclf::encoder::e5::WordPieceTokenizer;

std::optional<WordPieceTokenizer> tokenizer;

constexpr std::string_view kBuiltInVocab =
    "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\na\n##a\nb\n##b\nab\n##ab\nc\n##c\ne\n##e\ncafe\n[\n]\n-\n.\n:\n"
    "日\n本\nσ\nς\n##σ\n##ς\nκ\n##ο\n##ε\n";

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant violated: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  std::vector<std::filesystem::path> candidates;
  if (const char* shared = std::getenv("LOGCLF_SHARED_DIR"); shared != nullptr && *shared != '\0')
    candidates.emplace_back(std::filesystem::path(shared) / "models/e5-small-v2");
  candidates.emplace_back("../shared/models/e5-small-v2");  // scripts/fuzz.sh runs from the checkout
  for (const auto& dir : candidates) {
    if (std::filesystem::exists(dir / "vocab.txt")) {
      tokenizer = WordPieceTokenizer::load(dir.string());
      std::fprintf(stderr, "e5_tokenizer_fuzz: vocabulary of %s\n", dir.c_str());
      return 0;
    }
  }
  tokenizer = WordPieceTokenizer::from_vocab(kBuiltInVocab, "built-in");
  std::fprintf(stderr, "e5_tokenizer_fuzz: built-in vocabulary (e5-small-v2 not found)\n");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::size_t max_length = data[0] % 40;
  if (max_length == 1) max_length = 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);

  std::vector<std::int32_t> full, cut;
  tokenizer->encode(text, full, 0);
  tokenizer->encode(text, cut, max_length);
  for (const auto* ids : {&full, &cut}) {
    check(ids->size() >= 2, "at least [CLS] and [SEP]");
    check(ids->front() == tokenizer->cls_id(), "starts with [CLS]");
    check(ids->back() == tokenizer->sep_id(), "ends with [SEP]");
    for (const auto id : *ids) check(id >= 0 && std::size_t(id) < tokenizer->vocab_size(), "id in the vocabulary");
  }
  if (max_length == 0 || full.size() <= max_length) {
    check(cut == full, "no truncation when the ids fit");
  } else {
    check(cut.size() == max_length, "truncated to max_length");
    check(std::equal(cut.begin(), cut.end() - 1, full.begin()), "truncation keeps the first pieces");
  }
  return 0;
}
