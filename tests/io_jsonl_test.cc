// JSON lines reader: field extraction, pass-through text, blank lines, errors with line numbers.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "io/jsonl_reader.h"
#include "logclf/io.h"

namespace logclf {
namespace {

using ::testing::ElementsAre;
using ::testing::StartsWith;

ReadOptions jsonl_options() {
  ReadOptions options;
  options.format = Format::jsonl;
  return options;
}

std::vector<Record> read_all(std::string data, const ReadOptions& options = jsonl_options()) {
  auto reader = RecordReader::from_string(std::move(data), "in.jsonl", options);
  std::vector<Record> records;
  Record record;
  while (reader->next(record)) records.push_back(record);
  return records;
}

std::string error_of(std::string data, const ReadOptions& options = jsonl_options()) {
  try {
    read_all(std::move(data), options);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(JsonlReader, ExtractsFieldsAndKeepsText) {
  auto reader = RecordReader::from_string(
      "{\"log_message\": \"disk full\", \"source\": \"Billing\", \"target_label\": \"Critical Error\", \"n\": 3}\n",
      "in.jsonl", jsonl_options());
  EXPECT_THAT(reader->columns(), ElementsAre("log_message"));
  EXPECT_EQ(reader->format(), Format::jsonl);
  Record r;
  ASSERT_TRUE(reader->next(r));
  EXPECT_EQ(r.line, 1u);
  EXPECT_EQ(r.message, "disk full");
  EXPECT_EQ(r.source, "Billing");
  EXPECT_EQ(r.label, "Critical Error");
  EXPECT_THAT(r.fields, ElementsAre("{\"log_message\": \"disk full\", \"source\": \"Billing\", "
                                    "\"target_label\": \"Critical Error\", \"n\": 3}"));
  EXPECT_FALSE(reader->next(r));
}

TEST(JsonlReader, DecodesEscapes) {
  auto records = read_all(R"({"log_message":"a\"b\\c\nd \u00e9 \ud83d\ude00"})");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].message, "a\"b\\c\nd \xC3\xA9 \xF0\x9F\x98\x80");
}

TEST(JsonlReader, SourceIsOptionalAndMayBeNull) {
  auto records = read_all("{\"log_message\":\"a\"}\n{\"log_message\":\"b\",\"source\":null}\n");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].source, "");
  EXPECT_EQ(records[1].source, "");
  EXPECT_EQ(error_of("{\"log_message\":\"b\",\"source\":7}"), "in.jsonl:1: field 'source' is not a string");
}

TEST(JsonlReader, OnlyTopLevelKeysCountAndTheLastDuplicateWins) {
  auto records = read_all(R"({"x":{"log_message":"nested","source":1},"log_message":"first","log_message":"top"})");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].message, "top");
  EXPECT_EQ(records[0].source, "");
  EXPECT_EQ(error_of(R"({"log_message":"a","log_message":[1]})"), "in.jsonl:1: field 'log_message' is not a string");
}

TEST(JsonlReader, BlankLinesAreSkippedAndLinesCounted) {
  auto records = read_all("\n  \t\n{\"log_message\":\"a\"}  \r\n\r\n\t{\"log_message\":\"b\"}");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].line, 3u);
  EXPECT_THAT(records[0].fields, ElementsAre("{\"log_message\":\"a\"}"));
  EXPECT_EQ(records[1].line, 5u);
  EXPECT_THAT(records[1].fields, ElementsAre("{\"log_message\":\"b\"}"));
}

// A .json file is read as JSON lines; one holding an array is refused as a whole, with a hint.
TEST(JsonlReader, JsonArrayIsRefusedWhenReadAsJson) {
  ReadOptions options;
  options.format = Format::json;
  options.keep_bad_records = true;
  auto reader = RecordReader::from_string("\n \t[{\"log_message\":\"x\"},\n{\"log_message\":\"y\"}]\n", "in.json", options);
  Record record;
  try {
    reader->next(record);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "in.json:2: this is a JSON array; logclf reads JSON lines (one object per line), e.g. "
                           "jq -c '.[]' in.json");
  }
  reader = RecordReader::from_string("{\"log_message\":\"x\"}\n[1]\n", "in.json", options);
  ASSERT_TRUE(reader->next(record));
  EXPECT_EQ(record.message, "x");
  EXPECT_EQ(reader->format(), Format::jsonl);
  ASSERT_TRUE(reader->next(record));  // a later array line is one bad record, as in any JSON lines input
  EXPECT_EQ(record.error, "in.json:2: not a JSON object");
  // Read as JSON lines (--format jsonl, standard input), an array on the first line is refused the same way,
  // not taken as one bad record.
  options.format = Format::jsonl;
  reader = RecordReader::from_string("[{\"log_message\":\"x\"},{\"log_message\":\"y\"}]\n", "<stdin>", options);
  try {
    reader->next(record);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "<stdin>:1: this is a JSON array; logclf reads JSON lines (one object per line), e.g. "
                           "jq -c '.[]'");
  }
}

TEST(JsonlReader, SkipsByteOrderMark) {
  auto records = read_all("\xEF\xBB\xBF{\"log_message\":\"a\"}\n");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_THAT(records[0].fields, ElementsAre("{\"log_message\":\"a\"}"));
}

TEST(JsonlReader, Errors) {
  const std::string ok = "{\"log_message\":\"ok\"}\n";
  EXPECT_EQ(error_of(ok + "{\"message\":\"x\"}\n"), "in.jsonl:2: field 'log_message' missing");
  EXPECT_EQ(error_of(ok + "\n{\"log_message\":5}\n"), "in.jsonl:3: field 'log_message' is not a string");
  EXPECT_EQ(error_of(ok + "{\"log_message\":null}\n"), "in.jsonl:2: field 'log_message' is not a string");
  EXPECT_EQ(error_of(ok + "{\"log_message\":{\"a\":1}}\n"), "in.jsonl:2: field 'log_message' is not a string");
  EXPECT_EQ(error_of(ok + "[1,2]\n"), "in.jsonl:2: not a JSON object");
  EXPECT_EQ(error_of(ok + "\"text\"\n"), "in.jsonl:2: not a JSON object");
  EXPECT_EQ(error_of(ok + "42\n"), "in.jsonl:2: not a JSON object");
  EXPECT_EQ(error_of(ok + ok + "{\"log_message\":\"x\"\n"),
            "in.jsonl:3: invalid JSON: parse error at line 1, column 19: syntax error while parsing object - "
            "unexpected end of input; expected '}'");
  EXPECT_THAT(error_of("{\"log_message\":\"x\"} trailing\n"), StartsWith("in.jsonl:1: invalid JSON: parse error"));
  EXPECT_THAT(error_of("{\"log_message\":\"x\"}{}\n"), StartsWith("in.jsonl:1: invalid JSON: parse error"));
  EXPECT_THAT(error_of("not json\n"), StartsWith("in.jsonl:1: invalid JSON: parse error"));
  EXPECT_EQ(error_of(std::string("{\"log_message\":\"x\"}\0 junk}\n", 27)), "in.jsonl:1: invalid JSON: NUL byte at column 20");
}

TEST(JsonlReader, Label) {
  ReadOptions options = jsonl_options();
  options.require_label = true;
  EXPECT_EQ(error_of("{\"log_message\":\"x\"}", options), "in.jsonl:1: field 'target_label' missing");
  EXPECT_EQ(error_of("{\"log_message\":\"x\",\"target_label\":null}", options),
            "in.jsonl:1: field 'target_label' missing");
  EXPECT_EQ(error_of("{\"log_message\":\"x\",\"target_label\":\"\"}", options),
            "in.jsonl:1: field 'target_label' is empty");
  EXPECT_EQ(error_of("{\"log_message\":\"x\",\"target_label\":1}"), "in.jsonl:1: field 'target_label' is not a string");
  EXPECT_EQ(read_all("{\"log_message\":\"x\",\"target_label\":\"L\"}", options)[0].label, "L");
}

TEST(JsonlReader, CustomFieldNames) {
  ReadOptions options = jsonl_options();
  options.message_fields = {"msg"};
  options.source_field = "app";
  auto reader = RecordReader::from_string("{\"msg\":\"m\",\"app\":\"a\",\"log_message\":1}", "in.jsonl", options);
  EXPECT_THAT(reader->columns(), ElementsAre("msg"));
  Record r;
  ASSERT_TRUE(reader->next(r));
  EXPECT_EQ(r.message, "m");
  EXPECT_EQ(r.source, "a");
}

TEST(JsonlReader, InvalidUtf8IsReplacedBeforeParsing) {
  auto records = read_all("{\"log_message\":\"a\xff" "b\",\"source\":\"\xED\xA0\x80\"}\n");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].message, "a\xEF\xBF\xBD" "b");
  EXPECT_EQ(records[0].source, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_THAT(records[0].fields,
              ElementsAre("{\"log_message\":\"a\xEF\xBF\xBD" "b\",\"source\":\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"}"));
}

TEST(JsonlReader, StrictUtf8) {
  ReadOptions options = jsonl_options();
  options.strict_utf8 = true;
  EXPECT_EQ(error_of("{\"log_message\":\"ok\"}\n{\"log_message\":\"\xC0\xAF\"}\n", options),
            "in.jsonl:2: invalid UTF-8 at byte 17 of the line");
}

TEST(JsonlReader, RecordLongerThanLimit) {
  ReadOptions options = jsonl_options();
  options.max_record_bytes = 20;
  EXPECT_EQ(read_all("{\"log_message\":\"12\"}\n", options).size(), 1u);
  EXPECT_EQ(error_of("{\"log_message\":\"12\"}\n{\"log_message\":\"123\"}\n", options),
            "in.jsonl:2: record longer than 20 bytes");
}

// Reads `data` with or without the fast scanner: "LINE message|source|label" per record, or the error.
std::string outcome(const std::string& data, bool fast_path) {
  std::string result;
  try {
    auto reader = io::make_jsonl_reader(io::InputSource::from_string(data), "in.jsonl", jsonl_options(), fast_path);
    Record r;
    while (reader->next(r)) result += std::to_string(r.line) + " " + r.message + "|" + r.source + "|" + r.label + "\n";
  } catch (const Error& e) {
    result += std::string("error ") + e.what();
  }
  return result;
}

// The fast scanner must agree with nlohmann's parser on values and on errors, including the cases it
// hands over to nlohmann (surrogate escapes, exponents, deep nesting).
TEST(JsonlReader, FastPathAgreesWithNlohmann) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"log_message":"caf\u00e9 \u20ac \u0041\/\b\f\r\t","source":null,"target_label":"L"})",
       "1 caf\xC3\xA9 \xE2\x82\xAC A/\b\f\r\t||L\n"},
      {R"({"log_message":"\ud83d\ude00","n":-0.5e-3,"deep":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]})",
       "1 \xF0\x9F\x98\x80||\n"},
      {R"({"a":{"b":[1,2.5,true,false,null,"x",{}],"c":{}},"log_message":"m","log_message":"last"})", "1 last||\n"},
      {R"({"log_message":"m","n":1e400})", ""},
      {R"({"log_message":"m","n":01})", ""},
      {R"({"log_message":"m",})", ""},
      {R"({"log_message":"m" "x":1})", ""},
      {R"({"log_message":"\ud800"})", ""},
      {R"({"log_message":"\x"})", ""},
      {"{\"log_message\":\"tab\there\"}", ""},
      {R"({"log_message":tru})", ""},
      {R"({"log_message":"m","source":[]})", "error in.jsonl:1: field 'source' is not a string"},
      {R"( { "log_message" : "spaced" } )", "1 spaced||\n"},
  };
  for (const auto& [line, expected] : cases) {
    const std::string fast = outcome(line, true);
    EXPECT_EQ(fast, outcome(line, false)) << line;
    if (!expected.empty()) {
      EXPECT_EQ(fast, expected) << line;
    } else {
      EXPECT_THAT(fast, StartsWith("error in.jsonl:1: invalid JSON: ")) << line;
    }
  }
}

ReadOptions keep_options() {
  ReadOptions options = jsonl_options();
  options.keep_bad_records = true;
  return options;
}

// With keep_bad_records a bad line is a record with its error, its text, and the object's text when it is
// one; the next line is read normally.
TEST(JsonlReader, KeepsBadLinesAndReadsOn) {
  const std::string input =
      "{\"log_message\":\"one\"}\n"
      "not json\n"
      "[1]\n"
      "\n"
      "{\"x\":1}\n"
      "{\"log_message\":5,\"source\":\"S\"}\n"
      "{\"log_message\":\"two\",\"source\":\"S\"}\n";
  const auto records = read_all(input, keep_options());
  ASSERT_EQ(records.size(), 6u);
  EXPECT_EQ(records[0].message, "one");
  EXPECT_EQ(records[0].error, "");
  EXPECT_THAT(records[1].error, StartsWith("in.jsonl:2: invalid JSON: parse error at line 1, column 2"));
  EXPECT_EQ(records[1].raw, "not json");
  EXPECT_TRUE(records[1].fields.empty());
  EXPECT_EQ(records[1].message, "");
  EXPECT_EQ(records[2].error, "in.jsonl:3: not a JSON object");
  EXPECT_EQ(records[2].raw, "[1]");
  EXPECT_TRUE(records[2].fields.empty());
  EXPECT_EQ(records[3].line, 5u);
  EXPECT_EQ(records[3].error, "in.jsonl:5: field 'log_message' missing");
  EXPECT_THAT(records[3].fields, ElementsAre("{\"x\":1}"));  // an object: written back as one
  EXPECT_EQ(records[4].error, "in.jsonl:6: field 'log_message' is not a string");
  EXPECT_EQ(records[4].source, "");
  EXPECT_THAT(records[4].fields, ElementsAre("{\"log_message\":5,\"source\":\"S\"}"));
  EXPECT_EQ(records[5].line, 7u);
  EXPECT_EQ(records[5].message, "two");
  EXPECT_EQ(records[5].source, "S");
  EXPECT_EQ(records[5].error, "");
  EXPECT_EQ(error_of(input), records[1].error);  // without keep_bad_records: the Error it always was
}

TEST(JsonlReader, KeepsLongLinesAndInvalidUtf8UnderStrict) {
  ReadOptions options = keep_options();
  options.max_record_bytes = 20;
  options.strict_utf8 = true;
  const std::string input = "{\"log_message\":\"a\"}\n{\"log_message\":\"123456\"}\n{\"log_message\":\"\xff\"}\n"
                            "{\"log_message\":\"b\"}";
  // Whether the long line arrives at once or in pieces.
  for (const std::size_t chunk : {std::size_t{1}, std::size_t{3}, std::string::npos}) {
    auto reader = io::make_jsonl_reader(io::InputSource::from_string(input, chunk), "in.jsonl", options);
    std::vector<Record> records;
    for (Record r; reader->next(r);) records.push_back(r);
    ASSERT_EQ(records.size(), 4u);
    EXPECT_EQ(records[0].message, "a");
    EXPECT_EQ(records[1].error, "in.jsonl:2: record longer than 20 bytes");
    EXPECT_EQ(records[1].raw, "");
    EXPECT_TRUE(records[1].fields.empty());
    EXPECT_EQ(records[2].error, "in.jsonl:3: invalid UTF-8 at byte 17 of the line");
    EXPECT_EQ(records[2].raw, "{\"log_message\":\"\xEF\xBF\xBD\"}");
    EXPECT_EQ(records[3].message, "b");
    EXPECT_EQ(records[3].line, 4u);
  }
}

// Several names for the message field: each object uses the first it has as a key.
TEST(JsonlReader, MessageFieldIsTheFirstNamePresentInEachObject) {
  ReadOptions options = jsonl_options();
  options.message_fields = default_message_fields(Format::jsonl);
  EXPECT_THAT(options.message_fields, ElementsAre("log_message", "message", "log", "msg"));
  const std::string input =
      "{\"message\":\"vector\",\"host\":\"h\"}\n"
      "{\"log\":\"fluent bit\",\"msg\":\"not this\"}\n"
      "{\"msg\":\"not this\",\"log_message\":\"first name\"}\n"
      "{\"msg\":\"pino\",\"message\":null}\n";
  for (const bool fast : {true, false}) {
    auto reader = io::make_jsonl_reader(io::InputSource::from_string(input), "in.jsonl", options, fast);
    EXPECT_THAT(reader->columns(), ElementsAre("log_message"));
    std::vector<std::string> messages;
    Record r;
    try {
      while (reader->next(r)) messages.push_back(r.message);
    } catch (const Error& e) {
      messages.push_back(e.what());
    }
    // A name present with a value that is not a string is an error: the next name is not tried.
    EXPECT_THAT(messages, ElementsAre("vector", "fluent bit", "first name", "in.jsonl:4: field 'message' is not a string"))
        << (fast ? "fast path" : "nlohmann");
  }
  EXPECT_EQ(error_of("{\"text\":\"x\"}", options), "in.jsonl:1: no field 'log_message', 'message', 'log' or 'msg'");
  options.message_fields = {"msg", "log"};
  EXPECT_EQ(error_of("{\"text\":\"x\"}", options), "in.jsonl:1: no field 'msg' or 'log'");
  options.keep_bad_records = true;
  const auto records = read_all("{\"text\":\"x\"}\n{\"log\":\"y\"}\n", options);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].error, "in.jsonl:1: no field 'msg' or 'log'");
  EXPECT_EQ(records[1].message, "y");
}

// A name with a dot is a path into nested objects (ECS's log.original, OpenTelemetry's flattened keys), or a
// key spelt with the dot; arrays are not walked into. Both parsers agree.
TEST(JsonlReader, DottedNamesArePathsIntoObjects) {
  ReadOptions options = jsonl_options();
  options.message_fields = {"log.original", "event.original"};
  options.source_field = "service.name";
  options.keep_bad_records = true;
  const std::string input =
      R"({"@timestamp":"2026-12-07T08:00:00Z","log":{"level":"info","original":"disk full"},"service":{"name":"db"}})" "\n"
      R"({"log.original":"flat key","service.name":"api"})" "\n"
      R"({"event":{"kind":"x","original":"second name","nested":{"original":"no"}}})" "\n"
      R"({"log":{"file":{"original":"deeper, not this"}},"event":{"original":"event's"}})" "\n"
      R"({"log":[{"original":"in an array"}]})" "\n"
      R"({"log":{"original":{"text":"an object"}}})" "\n"
      R"({"log":"a string, not an object"})" "\n"
      R"({"x":{"log":{"original":"not at the top"}}})" "\n"
      R"({"log":{"a":[{"b":1}],"original":"after an array","z":{}},"service":{"name":null}})" "\n";
  const std::vector<std::string> expected = {
      "disk full|db",
      "flat key|api",
      "second name|",
      "event's|",
      "in.jsonl:5: no field 'log.original' or 'event.original'",
      "in.jsonl:6: field 'log.original' is not a string",
      "in.jsonl:7: no field 'log.original' or 'event.original'",
      "in.jsonl:8: no field 'log.original' or 'event.original'",
      "after an array|",
  };
  for (const bool fast : {true, false}) {
    auto reader = io::make_jsonl_reader(io::InputSource::from_string(input), "in.jsonl", options, fast);
    std::vector<std::string> got;
    Record r;
    while (reader->next(r)) got.push_back(r.error.empty() ? r.message + "|" + r.source : r.error);
    EXPECT_EQ(got, expected) << (fast ? "fast path" : "nlohmann");
  }
  // A path's first key also wanted on its own: its object is "not a string" for it, the path still found.
  options.message_fields = {"log", "log.original"};
  options.keep_bad_records = false;
  EXPECT_EQ(error_of(R"({"log":{"original":"m"}})", options), "in.jsonl:1: field 'log' is not a string");
  options.message_fields = {"log.original", "log"};
  EXPECT_EQ(read_all(R"({"log":{"original":"m"}})", options)[0].message, "m");
}

TEST(JsonlReader, DeepNestingIsNoProblem) {
  std::string line = "{\"log_message\":\"m\",\"deep\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
  auto records = read_all(line);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].message, "m");
}

}  // namespace
}  // namespace logclf
