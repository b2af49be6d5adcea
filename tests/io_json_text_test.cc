// Splitting a JSON array's text into its elements' text, checked against hand-written spans and against
// nlohmann's parse of each element.
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "io/json_text.h"

namespace logclf::io {
namespace {

std::vector<std::string> split(std::string_view array) {
  std::vector<std::pair<std::size_t, std::size_t>> spans;
  EXPECT_TRUE(find_elements(array, spans)) << array;
  std::vector<std::string> out;
  for (const auto& [begin, end] : spans) out.emplace_back(array.substr(begin, end - begin));
  return out;
}

TEST(JsonText, ArrayElementsAreTheirTextsWhateverTheyHold) {
  EXPECT_EQ(split("[]"), std::vector<std::string>{});
  EXPECT_EQ(split(" [ \n ] "), std::vector<std::string>{});
  EXPECT_EQ(split("[1,2.50,-3e4]"), (std::vector<std::string>{"1", "2.50", "-3e4"}));
  const std::string tricky =
      "[ {\"a\": \"],[\\\"}\"} ,\n  [1, [2, {\"b\": []}]] , \"x,y\" ,null,true , {\"c\":{\"d\":\"\\\\\"}} ]";
  const std::vector<std::string> expected = {"{\"a\": \"],[\\\"}\"}", "[1, [2, {\"b\": []}]]", "\"x,y\"", "null",
                                             "true", "{\"c\":{\"d\":\"\\\\\"}}"};
  EXPECT_EQ(split(tricky), expected);
  const nlohmann::json whole = nlohmann::json::parse(tricky);
  for (std::size_t i = 0; i < expected.size(); ++i) EXPECT_EQ(nlohmann::json::parse(expected[i]), whole[i]);
}

TEST(JsonText, TextThatIsNoArrayHasNoElements) {
  std::vector<std::pair<std::size_t, std::size_t>> spans;
  EXPECT_FALSE(find_elements("{\"a\": [1]}", spans));
  EXPECT_FALSE(find_elements("\"[1]\"", spans));
  EXPECT_FALSE(find_elements("", spans));
  EXPECT_FALSE(find_elements("[1, 2", spans));  // not valid JSON: no closing bracket found
}

}  // namespace
}  // namespace logclf::io
