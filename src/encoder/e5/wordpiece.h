// BERT's uncased WordPiece tokenizer as E5-small-v2 uses it, matching Hugging Face's tokenizers
// (BertNormalizer + BertPreTokenizer + WordPiece + the [CLS] ... [SEP] template) id for id:
//   1. special tokens written in the text ([CLS], [SEP], [PAD], [MASK], [UNK]) are cut out of the raw text
//      first, case-sensitively and anywhere (their added_tokens flags are all false);
//   2. each remaining section is cleaned (U+0000, U+FFFD and Cc/Cf/Co characters dropped, whitespace made
//      a space), CJK ideographs are spaced, then lowercased and stripped of accents (NFD, Mn dropped);
//   3. it is split on whitespace and punctuation, and each word is cut greedily, longest piece first, into
//      vocabulary pieces ("##" marks a continuation); a word over 100 code points or without a full cut
//      becomes [UNK].
// Invalid UTF-8 bytes are read as U+FFFD and so dropped like any U+FFFD.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace logclf::encoder::e5 {

class WordPieceTokenizer {
 public:
  // Reads `model_dir`/vocab.txt (one token a line, id = line number) or, when it is absent,
  // `model_dir`/tokenizer.json (model.vocab and added_tokens); lowercasing follows do_lower_case in
  // tokenizer_config.json when present (default true). Throws Error naming the directory or file at fault.
  static WordPieceTokenizer load(const std::string& model_dir);
  // A tokenizer from vocab.txt contents; `name` labels errors. Throws Error when the vocabulary is empty
  // or lacks [CLS], [SEP], [PAD] or [UNK].
  static WordPieceTokenizer from_vocab(std::string_view vocab_txt, const std::string& name,
                                       bool lowercase = true);

  // Replaces `ids` by [CLS] pieces [SEP]. With max_length > 0 only the first max_length - 2 pieces are
  // kept (max_length 1 throws Error: [CLS] and [SEP] do not fit). Thread-safe; reuses thread-local
  // scratch buffers, so repeated calls allocate nothing once `ids` and the buffers have grown.
  void encode(std::string_view text, std::vector<std::int32_t>& ids, std::size_t max_length = 512) const;

  std::string_view token(std::int32_t id) const;  // "" for an id outside the vocabulary
  std::size_t vocab_size() const;
  std::int32_t cls_id() const;
  std::int32_t sep_id() const;
  std::int32_t pad_id() const;
  std::int32_t unk_id() const;

  struct Vocab;  // immutable, shared between copies

 private:
  explicit WordPieceTokenizer(std::shared_ptr<const Vocab> vocab);
  std::shared_ptr<const Vocab> vocab_;
};

}  // namespace logclf::encoder::e5
