#include "encoder/e5/config.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "logclf/types.h"
#include "support/paths.h"
#include "support/run.h"

namespace logclf::encoder::e5 {
namespace {

void expect_shape(const BertConfig& c, int vocab, int hidden, int layers, int heads, int intermediate) {
  EXPECT_EQ(c.vocab_size, vocab);
  EXPECT_EQ(c.hidden_size, hidden);
  EXPECT_EQ(c.num_hidden_layers, layers);
  EXPECT_EQ(c.num_attention_heads, heads);
  EXPECT_EQ(c.intermediate_size, intermediate);
  EXPECT_EQ(c.max_position_embeddings, 512);
  EXPECT_EQ(c.type_vocab_size, 2);
  EXPECT_EQ(c.pad_token_id, 0);
  EXPECT_EQ(c.layer_norm_eps, 1e-12);
  EXPECT_EQ(c.hidden_act, "gelu");
}

TEST(E5Config, LoadsTheRealE5AndTinyBertConfigs) {
  const auto e5 = testing::shared_file("models/e5-small-v2/config.json");
  const auto tiny = testing::shared_file("golden/tiny-bert/config.json");
  if (e5.empty() || tiny.empty()) GTEST_SKIP() << "SKIPPED: ../shared model config.json files are absent";
  expect_shape(BertConfig::load(e5.string()), 30522, 384, 12, 12, 1536);
  expect_shape(BertConfig::load(tiny.string()), 30522, 32, 2, 4, 64);
  expect_shape(BertConfig::e5_small_v2(), 30522, 384, 12, 12, 1536);
}

TEST(E5Config, ToJsonAgreesWithWhatTransformersWrote) {
  const auto e5 = testing::shared_file("models/e5-small-v2/config.json");
  if (e5.empty()) GTEST_SKIP() << "SKIPPED: ../shared/models/e5-small-v2/config.json is absent";
  const auto ours = nlohmann::json::parse(BertConfig::e5_small_v2().to_json());
  const auto theirs = nlohmann::json::parse(testing::read_text(e5));
  for (const auto& [key, value] : theirs.items()) {
    if (key == "transformers_version") continue;  // which library version wrote it
    ASSERT_TRUE(ours.contains(key)) << key;
    EXPECT_EQ(ours[key], value) << key;
  }
  // And it parses back to the same configuration.
  BertConfig odd;
  odd.vocab_size = 1000;
  odd.hidden_size = 48;
  odd.num_hidden_layers = 3;
  odd.num_attention_heads = 6;
  odd.intermediate_size = 100;
  odd.max_position_embeddings = 128;
  odd.type_vocab_size = 1;
  odd.pad_token_id = 5;
  odd.layer_norm_eps = 1e-5;
  const BertConfig back = BertConfig::parse(odd.to_json(), "odd");
  EXPECT_EQ(back.vocab_size, 1000);
  EXPECT_EQ(back.hidden_size, 48);
  EXPECT_EQ(back.num_hidden_layers, 3);
  EXPECT_EQ(back.num_attention_heads, 6);
  EXPECT_EQ(back.intermediate_size, 100);
  EXPECT_EQ(back.max_position_embeddings, 128);
  EXPECT_EQ(back.type_vocab_size, 1);
  EXPECT_EQ(back.pad_token_id, 5);
  EXPECT_EQ(back.layer_norm_eps, 1e-5);
}

TEST(E5Config, OptionalFieldsTakeTransformersDefaults) {
  const BertConfig c = BertConfig::parse(
      R"({"model_type":"bert","vocab_size":100,"hidden_size":8,"num_hidden_layers":1,"num_attention_heads":2,)"
      R"("intermediate_size":16,"max_position_embeddings":64})",
      "c.json");
  EXPECT_EQ(c.type_vocab_size, 2);
  EXPECT_EQ(c.pad_token_id, 0);
  EXPECT_EQ(c.layer_norm_eps, 1e-12);
  EXPECT_EQ(c.hidden_act, "gelu");
}

std::string parse_error(const std::string& field, const nlohmann::json& value) {
  nlohmann::json doc = nlohmann::json::parse(BertConfig::e5_small_v2().to_json());
  if (value.is_discarded())
    doc.erase(field);
  else
    doc[field] = value;
  try {
    BertConfig::parse(doc.dump(), "cfg.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(E5Config, UnsupportedOrInvalidFieldsAreNamed) {
  const nlohmann::json absent(nlohmann::json::value_t::discarded);
  struct Case {
    std::string field;
    nlohmann::json value;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"model_type", "roberta", "cfg.json: field 'model_type' is 'roberta'; only 'bert' is supported"},
      {"model_type", absent, "cfg.json: field 'model_type' is missing"},
      {"hidden_act", "relu", "cfg.json: field 'hidden_act' is 'relu'; only 'gelu' is supported"},
      {"hidden_act", "gelu_new", "field 'hidden_act' is 'gelu_new'"},
      {"position_embedding_type", "relative_key", "field 'position_embedding_type' is 'relative_key'"},
      {"hidden_size", 380, "cfg.json: field 'hidden_size' 380 is not a multiple of num_attention_heads 12"},
      {"hidden_size", absent, "cfg.json: field 'hidden_size' is missing"},
      {"hidden_size", "384", "field 'hidden_size' must be an integer"},
      {"hidden_size", 384.0, "field 'hidden_size' must be an integer"},
      {"vocab_size", 0, "field 'vocab_size' must be an integer in [1, "},
      {"num_hidden_layers", -1, "field 'num_hidden_layers' must be an integer in [1, "},
      {"num_attention_heads", 0, "field 'num_attention_heads' must be"},
      {"intermediate_size", 4294967296ULL, "field 'intermediate_size' must be an integer in"},
      {"max_position_embeddings", 0, "field 'max_position_embeddings'"},
      {"type_vocab_size", 0, "field 'type_vocab_size'"},
      {"pad_token_id", -1, "field 'pad_token_id'"},
      {"pad_token_id", 30522, "field 'pad_token_id' 30522 is not below vocab_size 30522"},
      {"layer_norm_eps", 0, "field 'layer_norm_eps' must be in (0, 1)"},
      {"layer_norm_eps", "tiny", "field 'layer_norm_eps' must be a number"},
  };
  for (const Case& c : cases) {
    const std::string message = parse_error(c.field, c.value);
    EXPECT_NE(message.find(c.expected), std::string::npos) << "expected '" << c.expected << "', got '" << message << "'";
  }
  EXPECT_THROW(BertConfig::parse("{", "x"), Error);
  EXPECT_THROW(BertConfig::parse("[]", "x"), Error);
  try {
    BertConfig::load("/nonexistent/config.json");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/config.json"), std::string::npos);
  }
}

}  // namespace
}  // namespace logclf::encoder::e5
