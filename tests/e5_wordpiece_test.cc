#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "encoder/e5/wordpiece.h"
#include "logclf/types.h"
#include "support/paths.h"
#include "support/run.h"

namespace logclf::encoder::e5 {
namespace {

using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using Ids = std::vector<std::int32_t>;

struct GoldenCase {
  std::string text;
  Ids ids;
};

// ../shared/golden/e5_tokenizer.jsonl: ids from Hugging Face's tokenizers.js on e5-small-v2, untruncated.
std::vector<GoldenCase> read_golden(const std::filesystem::path& path) {
  std::vector<GoldenCase> cases;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    const auto doc = nlohmann::json::parse(line);
    cases.push_back({doc.at("text").get<std::string>(), doc.at("ids").get<Ids>()});
  }
  return cases;
}

std::string show(const Ids& ids) {
  std::string out = "[";
  for (std::size_t i = 0; i < ids.size(); ++i) out += (i ? "," : "") + std::to_string(ids[i]);
  return out + "]";
}

// Encodes every golden text and reports the first difference in full.
void expect_golden(const WordPieceTokenizer& tokenizer, const std::vector<GoldenCase>& cases) {
  std::size_t mismatches = 0;
  Ids ids;
  for (const auto& c : cases) {
    tokenizer.encode(c.text, ids, 0);
    if (ids == c.ids) continue;
    if (mismatches++ == 0)
      ADD_FAILURE() << "first mismatch, text " << nlohmann::json(c.text).dump() << "\n  expected " << show(c.ids)
                    << "\n  got      " << show(ids);
  }
  EXPECT_EQ(mismatches, 0u) << "of " << cases.size() << " golden texts";
}

class E5WordPieceGolden : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    model_dir_ = testing::shared_file("models/e5-small-v2");
    const auto golden = testing::shared_file("golden/e5_tokenizer.jsonl");
    if (model_dir_.empty() || golden.empty()) return;
    cases_ = read_golden(golden);
    tokenizer_.emplace(WordPieceTokenizer::load(model_dir_.string()));
  }
  static void TearDownTestSuite() {
    tokenizer_.reset();
    cases_.clear();
  }
  void SetUp() override {
    if (!tokenizer_)
      GTEST_SKIP() << "SKIPPED: ../shared/models/e5-small-v2 or ../shared/golden/e5_tokenizer.jsonl is absent";
    ASSERT_EQ(cases_.size(), 2515u);
  }
  static inline std::filesystem::path model_dir_;
  static inline std::vector<GoldenCase> cases_;
  static inline std::optional<WordPieceTokenizer> tokenizer_;  // loaded once for the suite
};

TEST_F(E5WordPieceGolden, VocabTxtMatchesEveryGoldenText) {
  const auto& tokenizer = *tokenizer_;
  EXPECT_EQ(tokenizer.vocab_size(), 30522u);
  EXPECT_EQ(tokenizer.cls_id(), 101);
  EXPECT_EQ(tokenizer.sep_id(), 102);
  EXPECT_EQ(tokenizer.pad_id(), 0);
  EXPECT_EQ(tokenizer.unk_id(), 100);
  EXPECT_EQ(tokenizer.token(7668), "cafe");
  EXPECT_EQ(tokenizer.token(30522), "");
  expect_golden(tokenizer, cases_);
}

TEST_F(E5WordPieceGolden, TokenizerJsonAloneGivesTheSameIds) {
  testing::TempDir dir;
  std::filesystem::copy_file(model_dir_ / "tokenizer.json", dir.path() / "tokenizer.json");
  const auto tokenizer = WordPieceTokenizer::load(dir.path().string());
  EXPECT_EQ(tokenizer.vocab_size(), 30522u);
  expect_golden(tokenizer, cases_);
}

TEST_F(E5WordPieceGolden, TruncationKeepsClsFirstPiecesAndSep) {
  const auto& tokenizer = *tokenizer_;
  const auto it = std::find_if(cases_.begin(), cases_.end(), [](const GoldenCase& c) { return c.ids.size() == 603; });
  ASSERT_NE(it, cases_.end());
  Ids ids;
  tokenizer.encode(it->text, ids);  // default max_length 512
  ASSERT_EQ(ids.size(), 512u);
  EXPECT_TRUE(std::equal(ids.begin(), ids.end() - 1, it->ids.begin()));  // [CLS] + first 510 pieces
  EXPECT_EQ(ids.back(), 102);
  tokenizer.encode(it->text, ids, 8);
  Ids first_six(it->ids.begin(), it->ids.begin() + 7);  // [CLS] and six pieces
  first_six.push_back(102);
  EXPECT_EQ(ids, first_six);
  tokenizer.encode(it->text, ids, 2);
  EXPECT_THAT(ids, ElementsAreArray({101, 102}));
  EXPECT_THROW(tokenizer.encode(it->text, ids, 1), Error);
  tokenizer.encode("short text", ids, 512);  // shorter than max_length: untouched
  EXPECT_THAT(ids, ElementsAreArray({101, 2460, 3793, 102}));
}

TEST_F(E5WordPieceGolden, SpecialTokensAsHuggingFaceCutsThem) {
  // Ids from Hugging Face's tokenizers.js 0.2.0 (the golden file's tokenizer) on e5-small-v2: added tokens
  // match case-sensitively anywhere in the raw text; final sigma follows full lowercasing.
  const auto& tokenizer = *tokenizer_;
  Ids ids;
  tokenizer.encode("x[SEP]y", ids, 0);
  EXPECT_THAT(ids, ElementsAreArray({101, 1060, 102, 1061, 102}));
  tokenizer.encode("[cls]", ids, 0);  // [ cl ##s ]
  EXPECT_THAT(ids, ElementsAreArray({101, 1031, 18856, 2015, 1033, 102}));
  tokenizer.encode("[[CLS]]", ids, 0);
  EXPECT_THAT(ids, ElementsAreArray({101, 1031, 101, 1033, 102}));
  tokenizer.encode("ΟΔΟΣ ΣΑ", ids, 0);  // ο ##δ ##ος σ ##α
  EXPECT_THAT(ids, ElementsAreArray({101, 1169, 29722, 15297, 1173, 14608, 102}));
  tokenizer.encode("a\u00a0b\u2028c\u200bd", ids, 0);  // NBSP and LINE SEPARATOR split, ZWSP is dropped
  EXPECT_THAT(ids, ElementsAreArray({101, 1037, 1038, 3729, 102}));
}

TEST_F(E5WordPieceGolden, ThreadsShareOneTokenizer) {
  const auto& tokenizer = *tokenizer_;
  std::vector<std::size_t> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < mismatches.size(); ++t) {
    threads.emplace_back([&, t] {
      Ids ids;
      for (std::size_t i = t; i < cases_.size(); i += 2) {
        tokenizer.encode(cases_[i].text, ids, 0);
        mismatches[t] += ids != cases_[i].ids;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (const auto m : mismatches) EXPECT_EQ(m, 0u);
}

// A small vocabulary for cases checked by hand; ids are line numbers.
constexpr std::string_view kTinyVocab =
    "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n"                  // 0-4
    "un\n##aff\n##able\nunaff\n"                           // 5-8
    "cafe\n##e\ncaf\n"                                     // 9-11
    "日\n本\nx\ny\n"                                        // 12-15
    "a\n##a\nabcd\n[\n]\ncl\n##s\n"                        // 16-22
    "οδος\nσα\nb\n-\n¿\nna\n##ive\n";                      // 23-29

WordPieceTokenizer tiny(bool lowercase = true) { return WordPieceTokenizer::from_vocab(kTinyVocab, "tiny", lowercase); }

Ids encode(const WordPieceTokenizer& tokenizer, std::string_view text, std::size_t max_length = 0) {
  Ids ids;
  tokenizer.encode(text, ids, max_length);
  return ids;
}

TEST(E5WordPiece, GreedyLongestMatchWithContinuations) {
  const auto t = tiny();
  EXPECT_THAT(encode(t, "unaffable"), ElementsAreArray({2, 8, 7, 3}));  // unaff ##able, not un ##aff ##able
  EXPECT_THAT(encode(t, "unable"), ElementsAreArray({2, 5, 7, 3}));     // un ##able
  EXPECT_THAT(encode(t, "unx"), ElementsAreArray({2, 1, 3}));           // no ##x: the whole word is [UNK]
  EXPECT_THAT(encode(t, "unx a"), ElementsAreArray({2, 1, 16, 3}));
  EXPECT_THAT(encode(t, ""), ElementsAreArray({2, 3}));
  EXPECT_THAT(encode(t, " \t\r\n "), ElementsAreArray({2, 3}));
}

TEST(E5WordPiece, LowercaseAndAccentsStripped) {
  const auto t = tiny();
  EXPECT_THAT(encode(t, "Café CAFÉ cafe\u0301"), ElementsAreArray({2, 9, 9, 9, 3}));
  EXPECT_THAT(encode(t, "NAÏVE"), ElementsAreArray({2, 28, 29, 3}));
  EXPECT_THAT(encode(t, "ΟΔΟΣ ΣΑ"), ElementsAreArray({2, 23, 24, 3}));  // final sigma only at the word's end
  // Cased: no lowercasing and no accent stripping, so none of these is in the vocabulary.
  EXPECT_THAT(encode(tiny(false), "Café cafe"), ElementsAreArray({2, 1, 9, 3}));
}

TEST(E5WordPiece, ChineseCharactersAndPunctuationSplit) {
  const auto t = tiny();
  EXPECT_THAT(encode(t, "x日本y"), ElementsAreArray({2, 14, 12, 13, 15, 3}));
  EXPECT_THAT(encode(t, "a-b¿x"), ElementsAreArray({2, 16, 26, 25, 27, 14, 3}));
  // Extension B ideographs are split too (HF's ranges are code points; tokenizers.js, reading UTF-16 units,
  // would miss them and give one [UNK] for the whole word).
  EXPECT_THAT(encode(t, "x\U00020000y"), ElementsAreArray({2, 14, 1, 15, 3}));
}

TEST(E5WordPiece, ControlCharactersAndInvalidUtf8Dropped) {
  const auto t = tiny();
  // Control and format characters (and U+FFFD, NUL) vanish without splitting the word.
  EXPECT_THAT(encode(t, std::string("ab\x01\x7f" "c\0d", 8)), ElementsAreArray({2, 18, 3}));
  EXPECT_THAT(encode(t, "ab\u200b\ufffdc\u00add"), ElementsAreArray({2, 18, 3}));
  // Invalid bytes read as U+FFFD; the valid characters around them survive.
  EXPECT_THAT(encode(t, "\xff" "ab\xe2\x82" "cd\xed\xa0\x80"), ElementsAreArray({2, 18, 3}));
  EXPECT_THAT(encode(t, "a\x0b" "b"), ElementsAreArray({2, 1, 3}));  // \v is a control: "ab", not "a b"
}

TEST(E5WordPiece, LongWordIsUnknown) {
  const auto t = tiny();
  const auto hundred = encode(t, std::string(100, 'a'));
  ASSERT_EQ(hundred.size(), 102u);  // a ##a x 99
  EXPECT_EQ(hundred[1], 16);
  EXPECT_EQ(hundred[100], 17);
  EXPECT_THAT(encode(t, std::string(101, 'a') + " a"), ElementsAreArray({2, 1, 16, 3}));
  EXPECT_THAT(encode(t, std::string(20000, 'a')), ElementsAreArray({2, 1, 3}));
  // Code points count, not bytes: 100 two-byte characters still fit.
  std::string accented;
  for (int i = 0; i < 100; ++i) accented += "\u00e1";  // á -> a
  EXPECT_EQ(encode(t, accented).size(), 102u);
}

TEST(E5WordPiece, SpecialTokensInText) {
  const auto t = tiny();
  EXPECT_THAT(encode(t, "x[SEP]y"), ElementsAreArray({2, 14, 3, 15, 3}));
  EXPECT_THAT(encode(t, "[CLS] [PAD][MASK] [UNK]"), ElementsAreArray({2, 2, 0, 4, 1, 3}));
  EXPECT_THAT(encode(t, "[cls]"), ElementsAreArray({2, 19, 21, 22, 20, 3}));  // lowercase: plain text
  EXPECT_THAT(encode(t, "[CL\x01S]"), ElementsAreArray({2, 19, 21, 22, 20, 3}));  // matched before cleaning
}

TEST(E5WordPiece, Truncation) {
  const auto t = tiny();
  EXPECT_THAT(encode(t, "a b x y", 4), ElementsAreArray({2, 16, 25, 3}));
  EXPECT_THAT(encode(t, "unaffable unaffable", 5), ElementsAreArray({2, 8, 7, 8, 3}));
  EXPECT_THAT(encode(t, "x[SEP]y", 3), ElementsAreArray({2, 14, 3}));
  EXPECT_THAT(encode(t, "x[SEP]y", 4), ElementsAreArray({2, 14, 3, 3}));
  EXPECT_THAT(encode(t, "日本 x", 3), ElementsAreArray({2, 12, 3}));
}

TEST(E5WordPiece, VocabularyErrors) {
  const auto message = [](std::string_view vocab) {
    try {
      WordPieceTokenizer::from_vocab(vocab, "v.txt");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_THAT(message(""), HasSubstr("v.txt: the vocabulary is empty"));
  EXPECT_THAT(message("[PAD]\n[UNK]\n[SEP]\na\n"), HasSubstr("v.txt: the vocabulary has no [CLS] token"));
  EXPECT_THAT(message("[PAD]\n[UNK]\n[CLS]\na\n"), HasSubstr("no [SEP]"));
  EXPECT_THAT(message("[PAD]\n[CLS]\n[SEP]\na\n"), HasSubstr("no [UNK]"));
  EXPECT_THAT(message("[PAD]\r\n[UNK]\r\n[CLS]\r\n[SEP]\r\n"), "no error");  // CRLF lines
}

TEST(E5WordPiece, LoadErrorsNameTheFile) {
  const auto message = [](const std::string& dir) {
    try {
      WordPieceTokenizer::load(dir);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  testing::TempDir dir;
  EXPECT_THAT(message(dir / "missing"), HasSubstr(dir / "missing"));
  EXPECT_THAT(message(dir.path().string()), HasSubstr("neither vocab.txt nor tokenizer.json"));

  const auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir / name, std::ios::binary) << text;
  };
  write("tokenizer.json", R"({"model": {"type": "BPE", "vocab": {}}})");
  EXPECT_THAT(message(dir.path().string()), HasSubstr("tokenizer.json: model.type is not WordPiece"));
  write("tokenizer.json", R"({"model": {"vocab": {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 4}}})");
  EXPECT_THAT(message(dir.path().string()), HasSubstr("tokenizer.json: model.vocab[\"[SEP]\"]: id is not"));
  write("tokenizer.json", R"({"model": {"vocab": {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": "3"}}})");
  EXPECT_THAT(message(dir.path().string()), HasSubstr("model.vocab[\"[SEP]\"]"));
  write("tokenizer.json", R"({"model": {"vocab": {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3}},
    "added_tokens": [{"id": 3, "content": "[SEP]", "lstrip": true}]})");
  EXPECT_THAT(message(dir.path().string()), HasSubstr("added_tokens[0].lstrip = true is not supported"));
  write("tokenizer.json", "{");
  EXPECT_THAT(message(dir.path().string()), HasSubstr("tokenizer.json: invalid JSON"));
  write("tokenizer.json", R"({"model": {"vocab": {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "A": 4}},
    "normalizer": {"type": "BertNormalizer", "lowercase": false}})");
  EXPECT_THAT(encode(WordPieceTokenizer::load(dir.path().string()), "A a"), ElementsAreArray({2, 4, 1, 3}));

  write("tokenizer_config.json", R"({"do_lower_case": "yes"})");
  EXPECT_THAT(message(dir.path().string()), HasSubstr("tokenizer_config.json: field 'do_lower_case'"));
  write("tokenizer_config.json", R"({"do_lower_case": false})");
  write("vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\nA\na\n");
  const auto cased = WordPieceTokenizer::load(dir.path().string());  // vocab.txt wins over tokenizer.json
  EXPECT_EQ(cased.vocab_size(), 6u);
  EXPECT_THAT(encode(cased, "A a"), ElementsAreArray({2, 4, 5, 3}));
  write("vocab.txt", "");
  EXPECT_THAT(message(dir.path().string()), HasSubstr("vocab.txt: the vocabulary is empty"));
}

}  // namespace
}  // namespace logclf::encoder::e5
