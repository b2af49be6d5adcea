// Plain-lines reader, UTF-8 repair and validation, and format names.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "io/lines_reader.h"
#include "io/utf8.h"
#include "logclf/io.h"

namespace logclf {
namespace {

using ::testing::ElementsAre;

ReadOptions lines_options() {
  ReadOptions options;
  options.format = Format::lines;
  return options;
}

std::vector<std::string> messages(std::string data, const ReadOptions& options = lines_options()) {
  auto reader = RecordReader::from_string(std::move(data), "in.txt", options);
  std::vector<std::string> out;
  Record record;
  uint64_t line = 0;
  while (reader->next(record)) {
    EXPECT_EQ(record.line, ++line);
    EXPECT_TRUE(record.fields.empty());
    out.push_back(record.message);
  }
  return out;
}

std::string error_of(std::string data, const ReadOptions& options = lines_options()) {
  try {
    messages(std::move(data), options);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

std::string repaired(std::string text) {
  io::replace_invalid_utf8(text);
  return text;
}

TEST(LinesReader, EveryLineIsARecordIncludingEmptyOnes) {
  EXPECT_THAT(messages("a\n\nb\r\n\r\nc"), ElementsAre("a", "", "b", "", "c"));
  EXPECT_THAT(messages("a\n"), ElementsAre("a"));
  EXPECT_THAT(messages("\n"), ElementsAre(""));
  EXPECT_THAT(messages("x\n\n"), ElementsAre("x", ""));
  EXPECT_THAT(messages(""), ElementsAre());
  EXPECT_THAT(messages("a\rb\r\n"), ElementsAre("a\rb"));  // a lone CR is data
  EXPECT_THAT(messages("  padded, \"kept\"  \n"), ElementsAre("  padded, \"kept\"  "));
}

TEST(LinesReader, SkipsByteOrderMark) { EXPECT_THAT(messages("\xEF\xBB\xBFhello\n\xEF\xBB\xBF"), ElementsAre("hello", "\xEF\xBB\xBF")); }

TEST(LinesReader, Columns) {
  ReadOptions options = lines_options();
  options.message_fields = {"msg"};
  auto reader = RecordReader::from_string("x", "in.txt", options);
  EXPECT_THAT(reader->columns(), ElementsAre("msg"));
  EXPECT_EQ(reader->format(), Format::lines);
}

TEST(LinesReader, LabelsCannotBeRequired) {
  ReadOptions options = lines_options();
  options.require_label = true;
  EXPECT_EQ(error_of("x\n", options), "in.txt: plain lines have no 'target_label' field");
}

TEST(LinesReader, RecordLongerThanLimit) {
  ReadOptions options = lines_options();
  options.max_record_bytes = 4;
  EXPECT_THAT(messages("abcd\r\nab\n", options), ElementsAre("abcd", "ab"));
  EXPECT_EQ(error_of("abcd\nabcde\n", options), "in.txt:2: record longer than 4 bytes");
  EXPECT_EQ(error_of("abcd\nabcde", options), "in.txt:2: record longer than 4 bytes");
}

TEST(LinesReader, InvalidUtf8IsReplacedOrReported) {
  EXPECT_THAT(messages("ok\na\xff" "b\n"), ElementsAre("ok", "a\xEF\xBF\xBD" "b"));
  ReadOptions options = lines_options();
  options.strict_utf8 = true;
  EXPECT_EQ(error_of("ok\na\xff" "b\n", options), "in.txt:2: invalid UTF-8 at byte 2 of the line");
}

// With keep_bad_records a line over the limit, or of invalid UTF-8 under strict, is a record with its
// error, and the next line is read normally.
TEST(LinesReader, KeepsBadLinesAndReadsOn) {
  ReadOptions options = lines_options();
  options.keep_bad_records = true;
  options.strict_utf8 = true;
  options.max_record_bytes = 4;
  for (const std::size_t chunk : {std::size_t{1}, std::size_t{2}, std::string::npos}) {
    auto reader = io::make_lines_reader(io::InputSource::from_string("abcd\r\nabcdefgh\r\na\xff\n\nlast", chunk),
                                        "in.txt", options);
    std::vector<Record> records;
    for (Record r; reader->next(r);) records.push_back(r);
    ASSERT_EQ(records.size(), 5u) << chunk;
    EXPECT_EQ(records[0].message, "abcd");
    EXPECT_EQ(records[1].line, 2u);
    EXPECT_EQ(records[1].error, "in.txt:2: record longer than 4 bytes");
    EXPECT_EQ(records[1].raw, "");
    EXPECT_EQ(records[1].message, "");
    EXPECT_EQ(records[2].error, "in.txt:3: invalid UTF-8 at byte 2 of the line");
    EXPECT_EQ(records[2].raw, "a\xEF\xBF\xBD");
    EXPECT_EQ(records[2].message, "");
    EXPECT_EQ(records[3].message, "");
    EXPECT_EQ(records[3].error, "");
    EXPECT_EQ(records[4].line, 5u);
    EXPECT_EQ(records[4].message, "last");
    EXPECT_EQ(records[4].error, "");
  }
}

TEST(LinesReader, StreamsLargeFile) {
  char path[] = "/tmp/logclf_lines_test_XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  const int lines = 100000;
  {
    std::ofstream file(path, std::ios::binary);
    for (int i = 0; i < lines; ++i) file << "line " << i << ' ' << std::string(i % 53, 'z') << (i % 2 ? "\n" : "\r\n");
  }
  auto reader = RecordReader::open(path, lines_options());
  Record r;
  for (int i = 0; i < lines; ++i) {
    ASSERT_TRUE(reader->next(r));
    ASSERT_EQ(r.line, static_cast<uint64_t>(i + 1));
    ASSERT_EQ(r.message, "line " + std::to_string(i) + ' ' + std::string(i % 53, 'z'));
  }
  EXPECT_FALSE(reader->next(r));
  std::remove(path);
}

TEST(LinesReader, EndlessLineFailsFast) {
  char path[] = "/tmp/logclf_lines_test_XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  {
    std::ofstream file(path, std::ios::binary);
    file << "first\n" << std::string(std::size_t{5} << 20, 'x');
  }
  ReadOptions options = lines_options();
  options.max_record_bytes = 1000;
  auto reader = RecordReader::open(path, options);
  Record r;
  ASSERT_TRUE(reader->next(r));
  try {
    reader->next(r);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), std::string(path) + ":2: record longer than 1000 bytes");
  }
  std::remove(path);
}

TEST(LinesReader, EndlessLineIsDroppedAsItArrivesWhenKept) {
  char path[] = "/tmp/logclf_lines_test_XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  {
    std::ofstream file(path, std::ios::binary);
    file << "first\n" << std::string(std::size_t{5} << 20, 'x') << "\r\nlast\n";
  }
  ReadOptions options = lines_options();
  options.max_record_bytes = 1000;
  options.keep_bad_records = true;
  auto reader = RecordReader::open(path, options);
  Record r;
  ASSERT_TRUE(reader->next(r));
  ASSERT_TRUE(reader->next(r));
  EXPECT_EQ(r.error, std::string(path) + ":2: record longer than 1000 bytes");
  EXPECT_EQ(r.raw, "");
  ASSERT_TRUE(reader->next(r));
  EXPECT_EQ(r.line, 3u);
  EXPECT_EQ(r.message, "last");
  EXPECT_FALSE(reader->next(r));
  std::remove(path);
}

TEST(Utf8, ValidTextIsUnchanged) {
  const std::string text = "plain ascii \xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF \xEF\xBF\xBF end";
  EXPECT_EQ(io::find_invalid_utf8(text), io::kValidUtf8);
  EXPECT_EQ(repaired(text), text);
  EXPECT_EQ(io::find_invalid_utf8(""), io::kValidUtf8);
}

TEST(Utf8, ReplacesEachMaximalInvalidSubpart) {
  const std::string r = "\xEF\xBF\xBD";
  EXPECT_EQ(repaired("a\xff" "b"), "a" + r + "b");
  EXPECT_EQ(repaired("\x80\xBF"), r + r);                         // stray continuation bytes
  EXPECT_EQ(repaired("x\xE2\x82"), "x" + r);                      // truncated at the end
  EXPECT_EQ(repaired("\xE2\x82z"), r + "z");                      // truncated before ASCII
  EXPECT_EQ(repaired("\xF0\x9F\x98"), r);                         // truncated 4-byte sequence
  EXPECT_EQ(repaired("\xF0\x9F\xC3\xA9"), r + "\xC3\xA9");        // truncated, followed by a valid one
  EXPECT_EQ(repaired("\xC0\xAF"), r + r);                         // overlong '/'
  EXPECT_EQ(repaired("\xE0\x80\xAF"), r + r + r);                 // overlong, 3 bytes
  EXPECT_EQ(repaired("\xF0\x80\x80\xAF"), r + r + r + r);         // overlong, 4 bytes
  EXPECT_EQ(repaired("\xED\xA0\x80"), r + r + r);                 // surrogate U+D800
  EXPECT_EQ(repaired("\xED\xBF\xBF"), r + r + r);                 // surrogate U+DFFF
  EXPECT_EQ(repaired("\xF4\x90\x80\x80"), r + r + r + r);         // U+110000
  EXPECT_EQ(repaired("\xF5\x80"), r + r);
  EXPECT_EQ(repaired("\xC1\xBF"), r + r);
}

TEST(Utf8, FindsFirstInvalidByte) {
  EXPECT_EQ(io::find_invalid_utf8("abcdefghij\xC3\xA9klmnop\xFF"), 18u);
  EXPECT_EQ(io::find_invalid_utf8("\xE2\x82"), 0u);
  EXPECT_EQ(io::find_invalid_utf8("12345678\x80"), 8u);
}

TEST(Utf8, RepairFromAnOffset) {
  std::string text = "abc\xFF";
  io::replace_invalid_utf8(text, io::find_invalid_utf8(text));
  EXPECT_EQ(text, "abc\xEF\xBF\xBD");
}

TEST(Format, Names) {
  EXPECT_EQ(parse_format("csv"), Format::csv);
  EXPECT_EQ(parse_format("jsonl"), Format::jsonl);
  EXPECT_EQ(parse_format("ndjson"), Format::jsonl);
  EXPECT_EQ(parse_format("json"), Format::json);
  EXPECT_EQ(parse_format("lines"), Format::lines);
  EXPECT_EQ(parse_format("text"), Format::lines);
  EXPECT_EQ(parse_format("txt"), Format::lines);
  EXPECT_EQ(parse_format("xml"), std::nullopt);
  EXPECT_EQ(parse_format("CSV"), std::nullopt);
  EXPECT_EQ(to_string(Format::csv), "csv");
  EXPECT_EQ(to_string(Format::jsonl), "jsonl");
  EXPECT_EQ(to_string(Format::json), "json");
  EXPECT_EQ(to_string(Format::lines), "lines");
}

TEST(Format, FromPath) {
  EXPECT_EQ(format_from_path("a/b.csv", Format::lines), Format::csv);
  EXPECT_EQ(format_from_path("B.CSV", Format::lines), Format::csv);
  EXPECT_EQ(format_from_path("x.jsonl", Format::csv), Format::jsonl);
  EXPECT_EQ(format_from_path("x.ndjson", Format::csv), Format::jsonl);
  EXPECT_EQ(format_from_path("x.json", Format::csv), Format::json);
  EXPECT_EQ(format_from_path("/var/log/syslog.log", Format::csv), Format::lines);
  EXPECT_EQ(format_from_path("notes.txt", Format::csv), Format::lines);
  EXPECT_EQ(format_from_path("x.csv.gz", Format::lines), Format::lines);
  EXPECT_EQ(format_from_path("dir.csv/file", Format::jsonl), Format::jsonl);
  EXPECT_EQ(format_from_path(".csv", Format::jsonl), Format::jsonl);
  EXPECT_EQ(format_from_path("-", Format::jsonl), Format::jsonl);
  EXPECT_EQ(format_from_path("x.parquet", Format::lines), Format::lines);  // an input: read as the fallback
}

TEST(Format, OutputFromPathRefusesAnExtensionNamingNoFormat) {
  EXPECT_EQ(output_format_from_path("out.JSON", Format::csv), Format::json);
  EXPECT_EQ(output_format_from_path("out.ndjson", Format::csv), Format::jsonl);
  EXPECT_EQ(output_format_from_path("out.log", Format::csv), Format::lines);
  EXPECT_EQ(output_format_from_path("-", Format::jsonl), Format::jsonl);
  EXPECT_EQ(output_format_from_path("dir.d/out", Format::lines), Format::lines);
  EXPECT_EQ(output_format_from_path(".hidden", Format::csv), Format::csv);
  try {
    output_format_from_path("a/x.parquet", Format::csv);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "cannot tell the output format of 'a/x.parquet' from its extension: use .csv, .jsonl, "
                           ".json, .txt or .log, or --output-format");
  }
  EXPECT_THROW(output_format_from_path("x.csv.gz", Format::csv), Error);
}

TEST(LinesReader, ReportsBytesReadForProgress) {
  ReadOptions options;
  options.format = Format::lines;
  auto reader = RecordReader::from_string("first\nsecond\n", "mem", options);
  EXPECT_EQ(reader->total_bytes(), 13u);
  Record r;
  ASSERT_TRUE(reader->next(r));
  EXPECT_LE(reader->bytes_read(), 13u);
  while (reader->next(r)) {
  }
  EXPECT_EQ(reader->bytes_read(), 13u);
}

}  // namespace
}  // namespace logclf
