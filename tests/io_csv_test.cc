// CSV reader: RFC 4180 quoting, the irregularities of real files, errors with line numbers, streaming.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>
#include <utility>

#include "io/csv_reader.h"
#include "logclf/io.h"

namespace logclf {
namespace {

using ::testing::ElementsAre;

ReadOptions csv_options() {
  ReadOptions options;
  options.format = Format::csv;
  return options;
}

std::vector<Record> read_all(std::string data, const ReadOptions& options = csv_options()) {
  auto reader = RecordReader::from_string(std::move(data), "in.csv", options);
  std::vector<Record> records;
  Record record;
  while (reader->next(record)) records.push_back(record);
  return records;
}

// The message of the Error thrown while opening and reading all of `data`.
std::string error_of(std::string data, const ReadOptions& options = csv_options()) {
  try {
    read_all(std::move(data), options);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(CsvReader, ReadsHeaderAndFields) {
  auto reader = RecordReader::from_string("source,log_message\nA,hello\nB,world\n", "in.csv", csv_options());
  EXPECT_THAT(reader->columns(), ElementsAre("source", "log_message"));
  EXPECT_EQ(reader->format(), Format::csv);
  EXPECT_EQ(reader->name(), "in.csv");
  Record r;
  ASSERT_TRUE(reader->next(r));
  EXPECT_EQ(r.line, 2u);
  EXPECT_EQ(r.source, "A");
  EXPECT_EQ(r.message, "hello");
  EXPECT_EQ(r.label, "");
  EXPECT_THAT(r.fields, ElementsAre("A", "hello"));
  ASSERT_TRUE(reader->next(r));
  EXPECT_EQ(r.line, 3u);
  EXPECT_EQ(r.message, "world");
  EXPECT_FALSE(reader->next(r));
  EXPECT_FALSE(reader->next(r));
}

TEST(CsvReader, QuotedFieldsWithDoubledQuotesAndCommas) {
  auto records = read_all("log_message,x\n\"He said \"\"hi\"\", then left\",\"\"\n\"\"\"\",plain\n");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].message, "He said \"hi\", then left");
  EXPECT_EQ(records[0].fields[1], "");
  EXPECT_EQ(records[1].message, "\"");
  EXPECT_EQ(records[1].fields[1], "plain");
}

TEST(CsvReader, NewlinesInsideQuotesKeepLineNumbersRight) {
  auto records = read_all("log_message,n\n\"one\ntwo\nthree\",1\nnext,2\n\"a\r\nb\",3\nlast,4\n");
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records[0].message, "one\ntwo\nthree");
  EXPECT_EQ(records[0].line, 2u);
  EXPECT_EQ(records[1].message, "next");
  EXPECT_EQ(records[1].line, 5u);
  EXPECT_EQ(records[2].message, "a\r\nb");  // inside quotes a CRLF is data
  EXPECT_EQ(records[2].line, 6u);
  EXPECT_EQ(records[3].line, 8u);
}

TEST(CsvReader, CrlfLineEndsAreNotPartOfFields) {
  auto records = read_all("source,log_message\r\nA,one\r\nB,\"two\"\r\nC,three");
  ASSERT_EQ(records.size(), 3u);
  EXPECT_THAT(records[0].fields, ElementsAre("A", "one"));
  EXPECT_THAT(records[1].fields, ElementsAre("B", "two"));
  EXPECT_THAT(records[2].fields, ElementsAre("C", "three"));
  EXPECT_EQ(records[2].line, 4u);
}

TEST(CsvReader, CarriageReturnInsideAnUnquotedFieldIsKept) {
  auto records = read_all("log_message,b\na\rb,c\n");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].message, "a\rb");
}

TEST(CsvReader, SkipsUtf8ByteOrderMark) {
  auto reader = RecordReader::from_string("\xEF\xBB\xBFlog_message\nx\n", "in.csv", csv_options());
  EXPECT_THAT(reader->columns(), ElementsAre("log_message"));
}

TEST(CsvReader, BlanksAroundQuotedFieldsAndTrimmedHeader) {
  auto reader = RecordReader::from_string(" source ,\tlog_message \n", "in.csv", csv_options());
  EXPECT_THAT(reader->columns(), ElementsAre("source", "log_message"));
  auto records = read_all(" source ,\tlog_message \nModernCRM, \"IP blocked\"  \nA, b \n");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].source, "ModernCRM");
  EXPECT_EQ(records[0].message, "IP blocked");
  EXPECT_EQ(records[1].message, " b ");  // unquoted fields are kept as they are
}

TEST(CsvReader, QuoteInsideUnquotedFieldIsLiteral) {
  auto records = read_all("log_message,b\nab\"c,d\n5\" disk,\"x\"\n");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].message, "ab\"c");
  EXPECT_EQ(records[1].message, "5\" disk");
  EXPECT_EQ(records[1].fields[1], "x");
}

// A blank line after the header is a record whose fields are all empty (an empty message), so that the
// output has a row for every line of the input; blank lines before the header are skipped.
TEST(CsvReader, BlankLinesInTheBodyAreRowsOfEmptyFields) {
  auto records = read_all("\nlog_message,b\n\nx,1\n\r\n\ny,2\n\n");
  ASSERT_EQ(records.size(), 6u);
  const std::vector<std::pair<uint64_t, std::vector<std::string>>> expected = {
      {3, {"", ""}}, {4, {"x", "1"}}, {5, {"", ""}}, {6, {"", ""}}, {7, {"y", "2"}}, {8, {"", ""}}};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(records[i].line, expected[i].first) << i;
    EXPECT_EQ(records[i].fields, expected[i].second) << i;
    EXPECT_EQ(records[i].message, expected[i].second[0]) << i;
    EXPECT_EQ(records[i].error, "") << i;
  }
  std::vector<std::string> messages;
  for (const Record& r : read_all("log_message\nhello\n\nworld\n")) messages.push_back(r.message);
  EXPECT_THAT(messages, ElementsAre("hello", "", "world"));
  // A blank line has no label: an error where a label is required, like any row without one.
  ReadOptions options = csv_options();
  options.require_label = true;
  EXPECT_EQ(error_of("log_message,target_label\nx,A\n\ny,B\n", options), "in.csv:3: field 'target_label' is empty");
}

TEST(CsvReader, EmptyFieldsAndQuotedFieldAtEndOfInput) {
  auto records = read_all("a,log_message,c\n,,\n,\"x\"\"\",\"y\"");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_THAT(records[0].fields, ElementsAre("", "", ""));
  EXPECT_THAT(records[1].fields, ElementsAre("", "x\"", "y"));
}

TEST(CsvReader, MissingMessageColumn) {
  EXPECT_EQ(error_of("a,b,c\n1,2,3\n"), "in.csv: missing column 'log_message' (columns: a, b, c)");
}

// A header read as one column that holds another separator names it; a comma header never gets the hint.
TEST(CsvReader, MissingColumnNamesTheLikelySeparator) {
  const std::string save = ": logclf reads comma-separated files, save it with commas";
  EXPECT_EQ(error_of("timestamp;source;log_message\n1;a;x\n"),
            "in.csv: missing column 'log_message' (columns: timestamp;source;log_message); the header looks "
            "separated by ';'" + save);
  EXPECT_EQ(error_of("timestamp\tlog_message\n1\tx\n"),
            "in.csv: missing column 'log_message' (columns: timestamp\tlog_message); the header looks separated "
            "by tabs" + save);
  EXPECT_EQ(error_of("a|b;log_message|c\n"),
            "in.csv: missing column 'log_message' (columns: a|b;log_message|c); the header looks separated by "
            "'|'" + save);
  EXPECT_EQ(error_of("text\nhello\n"), "in.csv: missing column 'log_message' (columns: text)");
  ReadOptions options = csv_options();
  options.message_fields = {"log_message", "message"};
  EXPECT_EQ(error_of("ts;message\n", options),
            "in.csv: no column 'log_message' or 'message' (columns: ts;message); the header looks separated by ';'" +
                save);
}

TEST(CsvReader, CustomFieldNamesAndOptionalSource) {
  ReadOptions options = csv_options();
  options.message_fields = {"msg"};
  options.source_field = "app";
  auto records = read_all("msg\nhello\n", options);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].message, "hello");
  EXPECT_EQ(records[0].source, "");
}

TEST(CsvReader, LabelColumn) {
  ReadOptions options = csv_options();
  options.require_label = true;
  EXPECT_EQ(error_of("log_message\nx\n", options),
            "in.csv: missing column 'target_label' (columns: log_message)");
  EXPECT_EQ(error_of("log_message,target_label\nx,A\ny,\n", options), "in.csv:3: field 'target_label' is empty");
  auto records = read_all("log_message,target_label\nx,Security Alert\n", options);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].label, "Security Alert");
  // Not required: used when present.
  EXPECT_EQ(read_all("target_label,log_message\nL,m\n")[0].label, "L");
}

TEST(CsvReader, DuplicateRequiredColumn) {
  EXPECT_EQ(error_of("log_message,log_message\nx,y\n"), "in.csv: duplicate column 'log_message'");
}

TEST(CsvReader, EmptyInputHasNoHeader) {
  EXPECT_EQ(error_of(""), "in.csv: empty input: expected a CSV header line");
  EXPECT_EQ(error_of("\n\r\n"), "in.csv: empty input: expected a CSV header line");
}

TEST(CsvReader, HeaderOnlyHasNoRecords) { EXPECT_TRUE(read_all("log_message\n").empty()); }

TEST(CsvReader, WrongFieldCountNamesTheLine) {
  EXPECT_EQ(error_of("a,b,log_message,d\n1,2,3,4\n1,2,3\n"), "in.csv:3: expected 4 fields, found 3");
  EXPECT_EQ(error_of("a,log_message\n1,2\n\"x\ny\",2,3\n"), "in.csv:3: expected 2 fields, found 3");
  // A line holding only blanks is a row with one field.
  EXPECT_EQ(error_of("a,log_message\n  \n"), "in.csv:2: expected 2 fields, found 1");
}

TEST(CsvReader, UnterminatedQuoteNamesTheLineWhereItStarts) {
  EXPECT_EQ(error_of("a,log_message\n1,2\n3,\"starts here\nand\ngoes on"), "in.csv:3: unterminated quoted field");
  EXPECT_EQ(error_of("a,log_message\n\"x\ny\",\"open\n"), "in.csv:3: unterminated quoted field");
}

TEST(CsvReader, TextAfterClosingQuoteIsAnError) {
  EXPECT_EQ(error_of("a,log_message\n1,2\n\"x\"y,2\n"), "in.csv:3: unexpected text after a closing quote");
  EXPECT_EQ(error_of("a,log_message\n\"multi\nline\" z,2\n"), "in.csv:3: unexpected text after a closing quote");
}

TEST(CsvReader, RecordLongerThanLimit) {
  ReadOptions options = csv_options();
  options.max_record_bytes = 11;  // the header, "log_message", just fits
  EXPECT_EQ(read_all("log_message\n0123456789a\r\n", options).size(), 1u);
  EXPECT_EQ(error_of("log_message\nshort\n0123456789ab\n", options), "in.csv:3: record longer than 11 bytes");
  EXPECT_EQ(error_of("log_message\n\"0123\n567890\"\n", options), "in.csv:2: record longer than 11 bytes");
  EXPECT_EQ(error_of("log_message\n\"0123\n567890\"", options), "in.csv:2: record longer than 11 bytes");
}

TEST(CsvReader, InvalidUtf8IsReplacedInEveryField) {
  auto records = read_all("log_message,source,x\na\xff" "b,\"\xC0\xAF\",\xE2\x82\n");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].message, "a\xEF\xBF\xBD" "b");
  EXPECT_EQ(records[0].source, "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_THAT(records[0].fields, ElementsAre("a\xEF\xBF\xBD" "b", "\xEF\xBF\xBD\xEF\xBF\xBD", "\xEF\xBF\xBD"));
}

TEST(CsvReader, StrictUtf8NamesLineByteAndField) {
  ReadOptions options = csv_options();
  options.strict_utf8 = true;
  EXPECT_EQ(error_of("log_message,x\n\"ok \xC3\xA9\",\"\n\xED\xA0\x80\"\n", options),
            "in.csv:2: invalid UTF-8 at byte 2 of field 'x'");
  EXPECT_EQ(error_of("log_\xFFmessage\n", options), "in.csv:1: invalid UTF-8 at byte 5 of the header");
  EXPECT_EQ(read_all("log_message\n\xC3\xA9\n", options)[0].message, "\xC3\xA9");
}

TEST(CsvReader, ReusedRecordHoldsOnlyTheCurrentRow) {
  auto reader = RecordReader::from_string("log_message,source,target_label\n\"long, long\",S,L\nb,,\n", "in.csv",
                                          csv_options());
  Record r;
  ASSERT_TRUE(reader->next(r));
  ASSERT_TRUE(reader->next(r));
  EXPECT_EQ(r.message, "b");
  EXPECT_EQ(r.source, "");
  EXPECT_EQ(r.label, "");
  EXPECT_THAT(r.fields, ElementsAre("b", "", ""));
}

// What reading `data` gives when the input arrives `chunk` bytes at a time: the records, one per line
// as "LINE:field|field|...", or the error.
std::string read_in_chunks(const std::string& data, std::size_t chunk, const ReadOptions& options) {
  std::string result;
  try {
    auto reader = io::make_csv_reader(io::InputSource::from_string(data, chunk), "in.csv", options);
    Record r;
    while (reader->next(r)) {
      result += std::to_string(r.line) + ":";
      if (!r.error.empty()) result += "[" + r.error + "] ";
      for (const auto& f : r.fields) result += f + "|";
      result += "\n";
    }
  } catch (const Error& e) {
    result += std::string("error ") + e.what();
  }
  return result;
}

ReadOptions keep_options() {
  ReadOptions options = csv_options();
  options.keep_bad_records = true;
  return options;
}

// Every buffer boundary inside a row (in a quote, between a doubled quote, between CR and LF, in the
// BOM, in blanks) must give the same result as reading everything at once, also where a bad row ends.
TEST(CsvReader, SameResultWhereverTheBufferEnds) {
  const std::vector<std::string> inputs = {
      "\xEF\xBB\xBFsource , log_message\r\nA, \"x \"\"y\"\"\"\t\r\n\r\nB,\"multi\r\nline, \"\"q\"\"\"\r\nC,plain\r\n",
      "log_message,b\n\"a\"  ,\"\"\n,\nx,\"end\"\r",
      "log_message,b\nab\"c,d\n\"x\",\"unterminated\n\n",
      "log_message,b\n\"x\" y,1\n",
      "log_message,b\n1,2,3\n",
      "log_message\n\"0123456789\n0123456789\"\n",
      "log_message\n\xC3\xA9\xE2\x82\n\"\xF0\x9F\n\x98\x80\"",
  };
  ReadOptions options = csv_options();
  options.max_record_bytes = 22;
  ReadOptions keep = keep_options();
  keep.max_record_bytes = 22;
  for (const auto& input : inputs) {
    for (const ReadOptions& o : {options, keep}) {
      const std::string whole = read_in_chunks(input, std::string::npos, o);
      for (std::size_t chunk = 1; chunk <= 8; ++chunk) {
        EXPECT_EQ(read_in_chunks(input, chunk, o), whole) << "chunk " << chunk << " of " << input;
      }
    }
  }
  EXPECT_EQ(read_in_chunks(inputs[0], 1, options),
            "2:A|x \"y\"|\n3:||\n4:B|multi\r\nline, \"q\"|\n6:C|plain|\n");
  EXPECT_EQ(read_in_chunks(inputs[1], 1, options), "2:a||\n3:||\n4:x|end|\n");
  EXPECT_EQ(read_in_chunks(inputs[2], 1, options), "2:ab\"c|d|\nerror in.csv:3: unterminated quoted field");
  EXPECT_EQ(read_in_chunks(inputs[5], 1, options), "error in.csv:2: record longer than 22 bytes");
  EXPECT_EQ(read_in_chunks(inputs[6], 1, options), "2:\xC3\xA9\xEF\xBF\xBD|\n3:\xEF\xBF\xBD\n\xEF\xBF\xBD\xEF\xBF\xBD|\n");
}

// With keep_bad_records a bad row is a record with its error, and the next row is read normally: after a
// row parsed to its end, after the line of a quote that never closes.
TEST(CsvReader, KeepsBadRowsAndReadsOnAfterThem) {
  const std::string input =
      "a,log_message\n1,ok\n1,2,3\n\"x\"y,2\n\n4,\"fine\"\n5\n3,\"open\nnext,row\n6,last\n";
  EXPECT_EQ(read_in_chunks(input, std::string::npos, keep_options()),
            "2:1|ok|\n"
            "3:[in.csv:3: expected 2 fields, found 3] |1,2,3|\n"
            "4:[in.csv:4: unexpected text after a closing quote] |\"x\"y,2|\n"
            "5:||\n"
            "6:4|fine|\n"
            "7:[in.csv:7: expected 2 fields, found 1] |5|\n"
            "8:[in.csv:8: unterminated quoted field] |3,\"open|\n"
            "9:next|row|\n"
            "10:6|last|\n");
  for (std::size_t chunk = 1; chunk <= 5; ++chunk) {
    EXPECT_EQ(read_in_chunks(input, chunk, keep_options()), read_in_chunks(input, std::string::npos, keep_options()));
  }
  const auto records = read_all(input, keep_options());
  ASSERT_EQ(records.size(), 9u);
  const Record& bad = records[1];
  EXPECT_EQ(bad.line, 3u);
  EXPECT_EQ(bad.error, "in.csv:3: expected 2 fields, found 3");
  EXPECT_EQ(bad.raw, "1,2,3");
  EXPECT_EQ(bad.message, "");
  EXPECT_THAT(bad.fields, ElementsAre("", "1,2,3"));
  EXPECT_EQ(records[3].error, "");  // a reused Record loses the error of the one before
  EXPECT_THAT(records[3].fields, ElementsAre("", ""));  // the blank line, not the fields of the one before
  EXPECT_EQ(records[4].message, "fine");
  EXPECT_EQ(records[7].message, "row");
  // Without keep_bad_records the first bad row is the Error it always was.
  EXPECT_EQ(error_of(input), "in.csv:3: expected 2 fields, found 3");
}

TEST(CsvReader, KeepsRecordsLongerThanLimitWithoutTheirText) {
  ReadOptions options = keep_options();
  options.max_record_bytes = 11;
  auto records = read_all("log_message\nshort\n0123456789ab\r\n\"0123\n567890\"\nafter\n", options);
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records[0].message, "short");
  EXPECT_EQ(records[1].error, "in.csv:3: record longer than 11 bytes");
  EXPECT_EQ(records[1].raw, "");
  EXPECT_EQ(records[2].error, "in.csv:4: record longer than 11 bytes");
  EXPECT_EQ(records[2].line, 4u);
  EXPECT_EQ(records[3].message, "after");
  EXPECT_EQ(records[3].line, 6u);
  // A quote that never closes: what follows its line is read again, whether the input ends first or the
  // record grows past the limit first.
  records = read_all("log_message\n\"ab\ncd\nef\ngh\nij\n", options);
  ASSERT_EQ(records.size(), 5u);
  EXPECT_EQ(records[0].error, "in.csv:2: record longer than 11 bytes");
  EXPECT_EQ(records[0].raw, "\"ab");
  EXPECT_EQ(records[1].message, "cd");
  EXPECT_EQ(records[4].message, "ij");
  EXPECT_EQ(records[4].line, 6u);
  records = read_all("log_message\n\"ab\ncd\n", options);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].error, "in.csv:2: unterminated quoted field");
  EXPECT_EQ(records[1].message, "cd");
}

TEST(CsvReader, KeepsRowsOfInvalidUtf8UnderStrict) {
  ReadOptions options = keep_options();
  options.strict_utf8 = true;
  const auto records = read_all("source,log_message\nS,ok\nS,bad \xff\nS,fine\n", options);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[1].error, "in.csv:3: invalid UTF-8 at byte 5 of field 'log_message'");
  EXPECT_EQ(records[1].raw, "S,bad \xEF\xBF\xBD");  // repaired: writers pass on valid UTF-8 only
  EXPECT_EQ(records[2].message, "fine");
}

TEST(CsvReader, HeaderProblemsStayErrors) {
  EXPECT_EQ(error_of("a,b\n1,2\n", keep_options()), "in.csv: missing column 'log_message' (columns: a, b)");
  EXPECT_EQ(error_of("\"log_message\n1\n", keep_options()), "in.csv:1: unterminated quoted field");
}

TEST(CsvReader, MessageColumnIsTheFirstOfSeveralNamesInTheHeader) {
  ReadOptions options = csv_options();
  options.message_fields = {"msg", "log_message", "message"};
  auto reader = RecordReader::from_string("message,log_message\nm,lm\n", "in.csv", options);
  Record r;
  ASSERT_TRUE(reader->next(r));
  EXPECT_EQ(r.message, "lm");
  EXPECT_EQ(read_all("x,message\n1,m\n", options)[0].message, "m");
  EXPECT_EQ(error_of("a,b\n", options), "in.csv: no column 'msg', 'log_message' or 'message' (columns: a, b)");
  options.message_fields = {"msg", "log"};
  EXPECT_EQ(error_of("a,b\n", options), "in.csv: no column 'msg' or 'log' (columns: a, b)");
}

TEST(CsvReader, MissingFile) {
  try {
    RecordReader::open("/nonexistent/dir/x.csv", csv_options());
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "cannot open '/nonexistent/dir/x.csv': No such file or directory");
  }
}

// Rows that straddle the reader's 1 MiB reads, quoted and not, must come out whole and numbered.
TEST(CsvReader, StreamsLargeFileAcrossBufferBoundaries) {
  char path[] = "/tmp/logclf_csv_test_XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  const int rows = 40000;
  {
    std::ofstream file(path, std::ios::binary);
    file << "id,log_message\r\n";
    for (int i = 0; i < rows; ++i) {
      if (i % 3 == 0) {
        file << i << ",\"quoted " << i << "\nsecond line, with \"\"quotes\"\" " << std::string(i % 97, 'q') << "\"\r\n";
      } else {
        file << i << ",plain message number " << i << ' ' << std::string(i % 89, 'p') << "\r\n";
      }
    }
  }
  auto reader = RecordReader::open(path, csv_options());
  Record r;
  uint64_t expected_line = 2;
  for (int i = 0; i < rows; ++i) {
    ASSERT_TRUE(reader->next(r)) << i;
    ASSERT_EQ(r.line, expected_line) << i;
    ASSERT_EQ(r.fields[0], std::to_string(i));
    if (i % 3 == 0) {
      ASSERT_EQ(r.message, "quoted " + std::to_string(i) + "\nsecond line, with \"quotes\" " + std::string(i % 97, 'q'));
      expected_line += 2;
    } else {
      ASSERT_EQ(r.message, "plain message number " + std::to_string(i) + ' ' + std::string(i % 89, 'p'));
      expected_line += 1;
    }
  }
  EXPECT_FALSE(reader->next(r));
  std::remove(path);
}

// An unterminated quote in a big file fails once the limit is passed, not at the end of the file.
TEST(CsvReader, UnterminatedQuoteInLargeFileFailsFast) {
  char path[] = "/tmp/logclf_csv_test_XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  {
    std::ofstream file(path, std::ios::binary);
    file << "log_message\nok\n\"" << std::string(std::size_t{3} << 20, 'x') << '\n';
  }
  ReadOptions options = csv_options();
  options.max_record_bytes = std::size_t{1} << 20;
  auto reader = RecordReader::open(path, options);
  Record r;
  ASSERT_TRUE(reader->next(r));
  try {
    reader->next(r);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), std::string(path) + ":3: record longer than 1048576 bytes");
  }
  std::remove(path);
}

TEST(CsvReader, SharedTestFile) {
  const std::string path = std::string(LOGCLF_SHARED_DIR) + "/data/test.csv";
  if (access(path.c_str(), R_OK) != 0) GTEST_SKIP() << "shared data file " << path << " is absent";
  auto reader = RecordReader::open(path, csv_options());
  EXPECT_THAT(reader->columns(), ElementsAre("source", "log_message"));
  std::vector<std::pair<std::string, std::string>> got;
  Record r;
  while (reader->next(r)) got.emplace_back(r.source, r.message);
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"ModernCRM", "IP 192.168.133.114 blocked due to potential attack"},
      {"BillingSystem", "User 12345 logged in."},
      {"AnalyticsEngine", "File data_6957.csv uploaded successfully by user User265."},
      {"AnalyticsEngine", "Backup completed successfully."},
      {"ModernHR", "GET /v2/54fadb412c4e40cdbaed9335e4c35a9e/servers/detail HTTP/1.1 RCODE  200 len: 1583 time: 0.1878400"},
      {"ModernHR", "Admin access escalation detected for user 9429"},
      {"LegacyCRM", "Case escalation for ticket ID 7324 failed because the assigned support agent is no longer active."},
      {"LegacyCRM", "Invoice generation process aborted for order ID 8910 due to invalid tax calculation module."},
      {"LegacyCRM",
       "The 'BulkEmailSender' feature is no longer supported. Use 'EmailCampaignManager' for improved functionality."},
      {"LegacyCRM",
       "The 'ReportGenerator' module will be retired in version 4.0. Please migrate to the 'AdvancedAnalyticsSuite' by "
       "Dec 2025"},
  };
  EXPECT_EQ(got, expected);
}

}  // namespace
}  // namespace logclf
