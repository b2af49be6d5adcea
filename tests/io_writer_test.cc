// Record writers (csv, jsonl, lines output for each input format) and atomic file output.
#include <dirent.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "io/atomic_file.h"
#include "logclf/io.h"

namespace logclf {
namespace {

using ::testing::ElementsAre;

std::unique_ptr<RecordReader> reader_for(Format format, std::string data) {
  ReadOptions options;
  options.format = format;
  return RecordReader::from_string(std::move(data), "in", options);
}

Prediction rule_prediction() {
  Prediction p;
  p.label = "Security Alert";
  p.stage = Stage::rule;
  p.rule = "blocked_ip";
  p.confidence = 1.0;
  return p;
}

Prediction model_prediction() {
  Prediction p;
  p.label = "HTTP Status";
  p.stage = Stage::model;
  p.confidence = 0.97314;
  return p;
}

// Reads every record of `reader` and writes it with predictions alternating rule / model.
std::string classify(RecordReader& reader, const WriteOptions& options) {
  auto writer = RecordWriter::to_string(reader, options);
  Record record;
  for (int i = 0; reader.next(record); ++i) writer->write(record, i % 2 ? model_prediction() : rule_prediction());
  writer->commit();
  return writer->str();
}

std::string classify(Format input, std::string data, Format output, bool explain = false) {
  auto reader = reader_for(input, std::move(data));
  return classify(*reader, WriteOptions{output, explain});
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool exists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

// Names in `dir` other than "." and "..".
std::vector<std::string> list_dir(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  closedir(d);
  return names;
}

class TempDir : public ::testing::Test {
 protected:
  void SetUp() override {
    char templ[] = "/tmp/logclf_writer_test_XXXXXX";
    ASSERT_NE(mkdtemp(templ), nullptr);
    dir_ = templ;
  }
  void TearDown() override {
    for (const auto& name : list_dir(dir_)) unlink((dir_ + "/" + name).c_str());
    rmdir(dir_.c_str());
  }
  std::string dir_;
};

TEST(CsvWriter, CsvInputKeepsColumnsAndQuotesOnlyWhenNeeded) {
  const std::string input =
      "source,log_message\n"
      "ModernCRM, \"IP 1.2.3.4 blocked\"\n"
      "A,\"a, b\"\n"
      "B,\"say \"\"hi\"\"\"\n"
      "C,\"two\r\nlines\"\n"
      "D,\" padded \"\n"
      "E,\n";
  EXPECT_EQ(classify(Format::csv, input, Format::csv),
            "source,log_message,predicted_label\n"
            "ModernCRM,IP 1.2.3.4 blocked,Security Alert\n"
            "A,\"a, b\",HTTP Status\n"
            "B,\"say \"\"hi\"\"\",Security Alert\n"
            "C,\"two\r\nlines\",HTTP Status\n"
            "D,\" padded \",Security Alert\n"
            "E,,HTTP Status\n");
}

TEST(CsvWriter, RowsAreCopiedOnlyWhenWritingThemAgainGivesTheSameText) {
  // Plain rows are copied as read; rows whose fields the writer would quote differently are written again.
  const std::string out = classify(Format::csv,
                                   "source,log_message\n"
                                   "A,plain row\n"
                                   "B, leading blank\n"
                                   "C,trailing blank \n"
                                   "D,cr\rinside\n"
                                   "E,\"quoted\"\n",
                                   Format::csv);
  EXPECT_NE(out.find("\nA,plain row,"), std::string::npos) << out;
  EXPECT_NE(out.find("\nB,\" leading blank\","), std::string::npos) << out;
  EXPECT_NE(out.find("\nC,\"trailing blank \","), std::string::npos) << out;
  EXPECT_NE(out.find("\nD,\"cr\rinside\","), std::string::npos) << out;
  EXPECT_NE(out.find("\nE,quoted,"), std::string::npos) << out;
}

TEST(CsvWriter, Explain) {
  EXPECT_EQ(classify(Format::csv, "log_message\nx\ny\n", Format::csv, true),
            "log_message,predicted_label,stage,rule,confidence\n"
            "x,Security Alert,rule,blocked_ip,1.0000\n"
            "y,HTTP Status,model,,0.9731\n");
}

TEST(CsvWriter, ColumnsForOtherInputs) {
  EXPECT_EQ(classify(Format::lines, "a\n\nc, d\n", Format::csv),
            "log_message,predicted_label\na,Security Alert\n,HTTP Status\n\"c, d\",Security Alert\n");
  EXPECT_EQ(classify(Format::jsonl, "{\"log_message\":\"m\",\"source\":\"S\"}\n{\"log_message\":\"n\"}\n", Format::csv),
            "log_message,source,predicted_label\nm,S,Security Alert\nn,,HTTP Status\n");
}

TEST(CsvWriter, CsvRecordMustMatchTheInputColumns) {
  auto reader = reader_for(Format::csv, "log_message,b\n");
  auto writer = RecordWriter::to_string(*reader, WriteOptions{});
  Record record;
  record.line = 7;
  record.message = "x";
  EXPECT_THROW(writer->write(record, rule_prediction()), Error);
}

TEST(JsonlWriter, JsonlInputGetsKeysInsertedBeforeTheClosingBrace) {
  const std::string input =
      "{\"log_message\":\"m\",\"n\":[1,{}]}\n"
      "{\"log_message\":\"\\\"}\"}\n"
      "{ \"log_message\" : \"x\" ,\"predicted_label\":\"old\" }\n";
  const std::string output = classify(Format::jsonl, input + "{\"log_message\":\"q\"}\n", Format::jsonl, true);
  EXPECT_EQ(output,
            "{\"log_message\":\"m\",\"n\":[1,{}],\"predicted_label\":\"Security Alert\",\"stage\":\"rule\","
            "\"rule\":\"blocked_ip\",\"confidence\":1.0000}\n"
            "{\"log_message\":\"\\\"}\",\"predicted_label\":\"HTTP Status\",\"stage\":\"model\",\"rule\":null,"
            "\"confidence\":0.9731}\n"
            "{ \"log_message\" : \"x\" ,\"predicted_label\":\"Security Alert\" ,\"stage\":\"rule\","
            "\"rule\":\"blocked_ip\",\"confidence\":1.0000}\n"
            "{\"log_message\":\"q\",\"predicted_label\":\"HTTP Status\",\"stage\":\"model\",\"rule\":null,"
            "\"confidence\":0.9731}\n");
  // Every line is valid JSON with one predicted_label.
  std::istringstream lines(output);
  std::string line;
  std::vector<std::string> labels;
  while (std::getline(lines, line)) labels.push_back(nlohmann::json::parse(line).at("predicted_label"));
  EXPECT_THAT(labels, ElementsAre("Security Alert", "HTTP Status", "Security Alert", "HTTP Status"));
}

// Readers never produce an empty object (the message is required), but Records can be made by hand.
TEST(JsonlWriter, EmptyObjectGetsNoComma) {
  auto reader = reader_for(Format::jsonl, "");
  auto writer = RecordWriter::to_string(*reader, WriteOptions{Format::jsonl, false});
  Record record;
  record.fields = {"{}"};
  writer->write(record, rule_prediction());
  record.fields = {"{ \t}"};
  writer->write(record, rule_prediction());
  EXPECT_EQ(writer->str(), "{\"predicted_label\":\"Security Alert\"}\n{ \t\"predicted_label\":\"Security Alert\"}\n");
}

TEST(JsonlWriter, ObjectsOfColumnsForOtherInputs) {
  EXPECT_EQ(classify(Format::csv, "source,log_message\nS,\"tab\there \"\"q\"\" \\\x01\"\n", Format::jsonl),
            "{\"source\":\"S\",\"log_message\":\"tab\\there \\\"q\\\" \\\\\\u0001\",\"predicted_label\":\"Security Alert\"}\n");
  EXPECT_EQ(classify(Format::lines, "one\n\xC3\xA9\n", Format::jsonl),
            "{\"log_message\":\"one\",\"predicted_label\":\"Security Alert\"}\n"
            "{\"log_message\":\"\xC3\xA9\",\"predicted_label\":\"HTTP Status\"}\n");
}

TEST(JsonlWriter, JsonlRecordWithoutItsTextIsWrittenFromItsFields) {
  auto reader = reader_for(Format::jsonl, "");
  auto writer = RecordWriter::to_string(*reader, WriteOptions{Format::jsonl, false});
  Record record;
  record.message = "m";
  record.source = "s";
  writer->write(record, rule_prediction());
  EXPECT_EQ(writer->str(), "{\"log_message\":\"m\",\"source\":\"s\",\"predicted_label\":\"Security Alert\"}\n");
}

TEST(LinesWriter, LabelTabMessageWithLineBreaksTabsAndBackslashesEscaped) {
  EXPECT_EQ(classify(Format::csv, "log_message\n\"a\nb\r\nc\rd\te\\f\"\nplain\n", Format::lines),
            "Security Alert\ta\\nb\\r\\nc\\rd\\te\\\\f\nHTTP Status\tplain\n");
  EXPECT_EQ(classify(Format::lines, "x\n\ny", Format::lines, true),
            "Security Alert\trule\tblocked_ip\t1.0000\tx\n"
            "HTTP Status\tmodel\t\t0.9731\t\n"
            "Security Alert\trule\tblocked_ip\t1.0000\ty\n");
}

// Writes every record of `data` read with keep_bad_records, as --on-error pass does: bad records in their
// place, with an error column.
std::string pass_through(Format input, std::string data, Format output, bool explain = false) {
  ReadOptions options;
  options.format = input;
  options.keep_bad_records = true;
  auto reader = RecordReader::from_string(std::move(data), "in", options);
  WriteOptions wo{output, explain};
  wo.error_column = true;
  return classify(*reader, wo);
}

TEST(CsvWriter, BadRecordsInTheirPlaceWithAnErrorColumn) {
  EXPECT_EQ(pass_through(Format::csv, "ts,log_message\n1,a\n2,b,c\n3,d\n", Format::csv, true),
            "ts,log_message,predicted_label,stage,rule,confidence,error\n"
            "1,a,Security Alert,rule,blocked_ip,1.0000,\n"
            ",\"2,b,c\",,,,,\"in:3: expected 2 fields, found 3\"\n"
            "3,d,Security Alert,rule,blocked_ip,1.0000,\n");
  EXPECT_EQ(pass_through(Format::jsonl, "{\"log_message\":\"a\"}\n{\"x\":1}\nnope\n", Format::csv),
            "log_message,source,predicted_label,error\n"
            "a,,Security Alert,\n"
            "\"{\"\"x\"\":1}\",,,in:2: field 'log_message' missing\n"
            "nope,,,\"in:3: invalid JSON: parse error at line 1, column 2: syntax error while parsing value - "
            "invalid literal; last read: 'no'\"\n");
}

TEST(JsonlWriter, BadRecordsKeepTheirObjectOrAreWrappedAsRaw) {
  const std::string output = pass_through(Format::jsonl, "{\"log_message\":\"a\"}\n{\"log_message\":1,\"n\":2}\n[\"x\"]\n",
                                          Format::jsonl, true);
  EXPECT_EQ(output,
            "{\"log_message\":\"a\",\"predicted_label\":\"Security Alert\",\"stage\":\"rule\",\"rule\":\"blocked_ip\","
            "\"confidence\":1.0000}\n"
            "{\"log_message\":1,\"n\":2,\"predicted_label\":null,\"stage\":null,\"rule\":null,\"confidence\":null,"
            "\"error\":\"in:2: field 'log_message' is not a string\"}\n"
            "{\"raw\":\"[\\\"x\\\"]\",\"predicted_label\":null,\"stage\":null,\"rule\":null,\"confidence\":null,"
            "\"error\":\"in:3: not a JSON object\"}\n");
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);) EXPECT_TRUE(nlohmann::json::parse(line).is_object()) << line;
  // Objects of columns (csv input) get the error too; good records get no "error" key.
  EXPECT_EQ(pass_through(Format::csv, "log_message\nok\n\"x\"y\n", Format::jsonl),
            "{\"log_message\":\"ok\",\"predicted_label\":\"Security Alert\"}\n"
            "{\"log_message\":\"\\\"x\\\"y\",\"predicted_label\":null,\"error\":\"in:3: unexpected text after a closing quote\"}\n");
}

TEST(LinesWriter, ErrorColumnBeforeTheMessage) {
  EXPECT_EQ(pass_through(Format::jsonl, "{\"log_message\":\"a\\tb\"}\n{\"m\":\"\\t\"}\n", Format::lines, true),
            "Security Alert\trule\tblocked_ip\t1.0000\t\ta\\tb\n"
            "\t\t\t\tin:2: field 'log_message' missing\t{\"m\":\"\\\\t\"}\n");
  // A tab in the error (from the file's name) is escaped like any other.
  ReadOptions options;
  options.format = Format::lines;
  options.keep_bad_records = true;
  options.strict_utf8 = true;
  auto reader = RecordReader::from_string("\xff\n", "a\tb", options);
  WriteOptions wo{Format::lines, false};
  wo.error_column = true;
  EXPECT_EQ(classify(*reader, wo), "\ta\\tb:1: invalid UTF-8 at byte 1 of the line\t\xEF\xBF\xBD\n");
}

TEST(CsvWriter, RoundTripOfAwkwardFields) {
  const std::vector<std::vector<std::string>> rows = {
      {"plain", "S1"},
      {"comma, inside", " leading blank"},
      {"\"quoted\" and \"\"doubled\"\"", "trailing blank "},
      {"multi\nline\r\nwith CRLF", "\t tab"},
      {"", ""},
      {"  ,\"", "\xC3\xA9\xE2\x82\xAC"},
  };
  // Build a CSV input by hand with every field quoted, write it out, read the output back.
  std::string input = "log_message,source\n";
  for (const auto& row : rows) {
    for (std::size_t i = 0; i < row.size(); ++i) {
      if (i > 0) input += ',';
      input += '"';
      for (char c : row[i]) {
        input += c;
        if (c == '"') input += '"';
      }
      input += '"';
    }
    input += "\n";
  }
  const std::string output = classify(Format::csv, input, Format::csv);
  auto reader = reader_for(Format::csv, output);
  EXPECT_THAT(reader->columns(), ElementsAre("log_message", "source", "predicted_label"));
  Record record;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    ASSERT_TRUE(reader->next(record));
    EXPECT_EQ(record.message, rows[i][0]);
    EXPECT_EQ(record.source, rows[i][1]);
    EXPECT_EQ(record.fields[2], i % 2 ? "HTTP Status" : "Security Alert");
  }
  EXPECT_FALSE(reader->next(record));
}

TEST_F(TempDir, FileAppearsOnlyAtCommit) {
  const std::string path = dir_ + "/out.csv";
  auto reader = reader_for(Format::lines, "a\nb\n");
  auto writer = RecordWriter::open(path, *reader, WriteOptions{});
  Record record;
  while (reader->next(record)) writer->write(record, rule_prediction());
  writer->flush();
  EXPECT_FALSE(exists(path));
  const auto names = list_dir(dir_);
  ASSERT_EQ(names.size(), 1u);
  // .NAME.PID-XXXXXX.logclf-tmp (io/temp_path.h)
  EXPECT_EQ(names[0].rfind(".out.csv." + std::to_string(getpid()) + "-", 0), 0u) << names[0];
  EXPECT_TRUE(names[0].ends_with(".logclf-tmp")) << names[0];
  EXPECT_EQ(slurp(dir_ + "/" + names[0]), "log_message,predicted_label\na,Security Alert\nb,Security Alert\n");
  writer->commit();
  EXPECT_EQ(slurp(path), "log_message,predicted_label\na,Security Alert\nb,Security Alert\n");
  EXPECT_EQ(writer->str(), "");
  writer.reset();
  EXPECT_THAT(list_dir(dir_), ElementsAre("out.csv"));
}

TEST_F(TempDir, UncommittedWriterLeavesNothing) {
  const std::string path = dir_ + "/out.jsonl";
  auto reader = reader_for(Format::lines, "a\n");
  {
    auto writer = RecordWriter::open(path, *reader, WriteOptions{Format::jsonl, false});
    Record record;
    ASSERT_TRUE(reader->next(record));
    writer->write(record, rule_prediction());
    writer->flush();
    EXPECT_EQ(list_dir(dir_).size(), 1u);
  }
  EXPECT_TRUE(list_dir(dir_).empty());
}

TEST_F(TempDir, ExistingFileIsReplacedOnlyAtCommit) {
  const std::string path = dir_ + "/out.txt";
  {
    std::ofstream(path) << "old contents\n";
  }
  chmod(path.c_str(), 0640);
  auto reader = reader_for(Format::lines, "new\n");
  auto writer = RecordWriter::open(path, *reader, WriteOptions{Format::lines, false});
  Record record;
  ASSERT_TRUE(reader->next(record));
  writer->write(record, model_prediction());
  writer->flush();
  EXPECT_EQ(slurp(path), "old contents\n");
  writer->commit();
  EXPECT_EQ(slurp(path), "HTTP Status\tnew\n");
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);  // the replaced file's permissions are kept
  EXPECT_EQ(list_dir(dir_).size(), 1u);
}

TEST_F(TempDir, NewFileGetsUmaskPermissions) {
  const mode_t old = umask(027);
  write_file_atomic(dir_ + "/f", "x");
  umask(old);
  struct stat st;
  ASSERT_EQ(stat((dir_ + "/f").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
}

TEST_F(TempDir, WriteFileAtomic) {
  const std::string path = dir_ + "/model.json";
  write_file_atomic(path, "first");
  write_file_atomic(path, "second");
  EXPECT_EQ(slurp(path), "second");
  EXPECT_THAT(list_dir(dir_), ElementsAre("model.json"));
}

TEST_F(TempDir, PendingTempFilesCanBeRemovedFromASignalHandler) {
  io::AtomicFile a(dir_ + "/a");
  io::AtomicFile b(dir_ + "/b");
  {
    io::AtomicFile committed(dir_ + "/c");
    committed.commit();
  }
  EXPECT_TRUE(exists(a.temp_path()));
  EXPECT_EQ(list_dir(dir_).size(), 3u);
  remove_pending_temp_files();
  EXPECT_FALSE(exists(a.temp_path()));
  EXPECT_FALSE(exists(b.temp_path()));
  EXPECT_THAT(list_dir(dir_), ElementsAre("c"));
}

TEST(AtomicFile, CannotCreateInMissingDirectory) {
  try {
    write_file_atomic("/nonexistent/dir/out.csv", "x");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "cannot create a temporary file for '/nonexistent/dir/out.csv': No such file or directory");
  }
}

TEST_F(TempDir, ADirectoryIsRefusedBeforeAnyTemporaryFile) {
  const std::string path = dir_ + "/sub";
  ASSERT_EQ(mkdir(path.c_str(), 0700), 0);
  try {
    write_file_atomic(path, "x");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "cannot write '" + path + "': it is a directory");
  }
  EXPECT_THAT(list_dir(dir_), ElementsAre("sub"));
  rmdir(path.c_str());
}

TEST(WriteAll, ReportsNoSpace) {
  const int fd = open("/dev/full", O_WRONLY);
  if (fd < 0) GTEST_SKIP() << "/dev/full is not available";
  try {
    io::write_all(fd, "data", "out.csv");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "out.csv: write error: No space left on device");
  }
  close(fd);
}

TEST(WriteAll, ReportsBrokenPipe) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  close(fds[0]);
  struct sigaction ignore = {}, old = {};
  ignore.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &ignore, &old);
  try {
    io::write_all(fds[1], "data", "<stdout>");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "<stdout>: write error: Broken pipe");
  }
  sigaction(SIGPIPE, &old, nullptr);
  close(fds[1]);
}

TEST(CsvWriter, FirstColumnNameStartingWithAByteOrderMarkSurvivesARoundTrip) {
  // The file's own mark is dropped by the reader; a second one belongs to the first column's name and
  // must be quoted on output, or the next reader would drop it too (found by the CSV fuzz target).
  const std::string output = classify(Format::csv, "\xEF\xBB\xBF\xEF\xBB\xBFid,log_message\n1,x\n", Format::csv);
  EXPECT_EQ(output.substr(0, 7), "\"\xEF\xBB\xBFid\"");
  auto reader = reader_for(Format::csv, output);
  EXPECT_EQ(reader->columns().front(), "\xEF\xBB\xBFid");
}

TEST(CsvWriter, BlankLineIsWrittenAsARowOfEmptyFields) {
  EXPECT_EQ(classify(Format::csv, "a,log_message,c\nx,y,z\n\n", Format::csv),
            "a,log_message,c,predicted_label\nx,y,z,Security Alert\n,,,HTTP Status\n");
  EXPECT_EQ(classify(Format::csv, "log_message\nhello\n\nworld\n", Format::csv),
            "log_message,predicted_label\nhello,Security Alert\n,HTTP Status\nworld,Security Alert\n");
  // With --on-error pass it is a good record: a label and an empty error.
  EXPECT_EQ(pass_through(Format::csv, "a,log_message\n\n1,x,y\n", Format::csv),
            "a,log_message,predicted_label,error\n"
            ",,Security Alert,\n"
            ",\"1,x,y\",,\"in:3: expected 2 fields, found 3\"\n");
}

// The escapes of lines output undone: \\ \t \n \r.
std::string unescape(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\' || i + 1 == text.size()) {
      out += text[i];
      continue;
    }
    const char c = text[++i];
    out += c == 't' ? '\t' : c == 'n' ? '\n' : c == 'r' ? '\r' : c;
  }
  return out;
}

TEST(LinesWriter, EveryFieldReadsBackExactlyAfterSplittingAtTabs) {
  const std::vector<std::pair<std::string, std::string>> rows = {
      {"a\tb", "tab\tlabel"},         {"cr\ronly", "back\\slash"},  {"lf\nonly", "L"},
      {"crlf\r\nend\r\n", "L"},        {"literal \\n and \\t", "\\"}, {"\\\t\\\r\n\\", ""},
      {"", "empty message"},           {"\t\t", "\n"},
  };
  auto shape = reader_for(Format::lines, "");
  for (const bool explain : {false, true}) {
    WriteOptions options{Format::lines, explain};
    options.error_column = true;
    auto writer = RecordWriter::to_string(*shape, options);
    for (const auto& [message, label] : rows) {
      Record record;
      record.message = message;
      Prediction p = model_prediction();
      p.label = label;
      p.rule = "rule\twith\\odd\nname";
      writer->write(record, p);
    }
    writer->commit();
    std::istringstream lines(writer->str());
    std::size_t i = 0;
    for (std::string line; std::getline(lines, line); ++i) {
      ASSERT_LT(i, rows.size()) << writer->str();
      std::vector<std::string> fields;
      for (std::size_t begin = 0, tab;; begin = tab + 1) {
        tab = line.find('\t', begin);
        fields.push_back(unescape(std::string_view(line).substr(begin, tab == line.npos ? line.npos : tab - begin)));
        if (tab == line.npos) break;
      }
      ASSERT_EQ(fields.size(), explain ? 6u : 3u) << line;
      EXPECT_EQ(fields.front(), rows[i].second) << line;
      EXPECT_EQ(fields.back(), rows[i].first) << line;
      if (explain) {
        EXPECT_EQ(fields[2], "rule\twith\\odd\nname") << line;
      }
    }
    EXPECT_EQ(i, rows.size());
  }
}

// An input column named like an output column gets the new value in its place; only missing output
// columns are added.
TEST(CsvWriter, OutputColumnsAlreadyInTheInputAreReplacedInPlace) {
  EXPECT_EQ(classify(Format::csv, "log_message,predicted_label,b\nx,old,1\n\"y\",,2\n", Format::csv),
            "log_message,predicted_label,b\nx,Security Alert,1\ny,HTTP Status,2\n");
  // Without --explain, a `stage` column is the input's own and stays as it is.
  EXPECT_EQ(classify(Format::csv, "stage,log_message\ns,x\n", Format::csv),
            "stage,log_message,predicted_label\ns,x,Security Alert\n");
  EXPECT_EQ(classify(Format::csv, "rule,log_message,predicted_label\nr0,x,old\nr1,y,old\n", Format::csv, true),
            "rule,log_message,predicted_label,stage,confidence\n"
            "blocked_ip,x,Security Alert,rule,1.0000\n"
            ",y,HTTP Status,model,0.9731\n");
  EXPECT_EQ(pass_through(Format::csv, "error,log_message,stage\nE,a,S\nE,b,S,extra\n", Format::csv, true),
            "error,log_message,stage,predicted_label,rule,confidence\n"
            ",a,rule,Security Alert,blocked_ip,1.0000\n"
            "\"in:3: expected 3 fields, found 4\",\"E,b,S,extra\",,,,\n");
  // The same for objects made of CSV columns.
  EXPECT_EQ(classify(Format::csv, "log_message,predicted_label\nx,old\n", Format::jsonl),
            "{\"log_message\":\"x\",\"predicted_label\":\"Security Alert\"}\n");
}

TEST(JsonlWriter, KeysAlreadyInTheObjectGetTheirNewValueWhereTheyStand) {
  const std::string output = classify(
      Format::jsonl,
      "{\"log_message\":\"m\",\"a\":1, \"predicted_label\" :\t\"old\",\"b\":{\"predicted_label\":\"nested\"}}\n"
      "{\"predicted_label\":\"x\",\"log_message\":\"m\",\"predicted_label\":{\"n\":[1,\"}\"]}}\n",
      Format::jsonl);
  // Every occurrence of a duplicate key: parsers differ in which one they keep.
  EXPECT_EQ(output,
            "{\"log_message\":\"m\",\"a\":1, \"predicted_label\" :\t\"Security Alert\",\"b\":{\"predicted_label\":\"nested\"}}\n"
            "{\"predicted_label\":\"HTTP Status\",\"log_message\":\"m\",\"predicted_label\":\"HTTP Status\"}\n");
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);) EXPECT_TRUE(nlohmann::json::parse(line).is_object()) << line;
  // With --explain the keys present are replaced, the others added in the usual order.
  EXPECT_EQ(classify(Format::jsonl, "{\"confidence\":\"high\",\"log_message\":\"m\",\"rule\":7}\n", Format::jsonl, true),
            "{\"confidence\":1.0000,\"log_message\":\"m\",\"rule\":\"blocked_ip\",\"predicted_label\":\"Security Alert\","
            "\"stage\":\"rule\"}\n");
  // A bad record's object gets its error in place too.
  EXPECT_EQ(pass_through(Format::jsonl, "{\"error\":\"old\",\"log_message\":1}\n", Format::jsonl),
            "{\"error\":\"in:1: field 'log_message' is not a string\",\"log_message\":1,\"predicted_label\":null}\n");
}

// json output: one array of the objects jsonl output writes, also when the rows are formatted apart from
// the writer (as the streaming pipeline does, in batches on several threads) and written together.
TEST(JsonWriter, OneArrayOfTheJsonLinesObjects) {
  const std::string input = "log_message,n\na,1\n\"b\nc\",2\n,3\n";
  const std::string jsonl = classify(Format::csv, input, Format::jsonl);
  const std::string json = classify(Format::csv, input, Format::json);
  std::string expected = "[\n" + jsonl;
  for (std::size_t nl = expected.find("}\n{"); nl != expected.npos; nl = expected.find("}\n{", nl)) {
    expected.insert(nl + 1, ",");
  }
  expected += "]\n";
  EXPECT_EQ(json, expected);
  const auto doc = nlohmann::json::parse(json);
  ASSERT_TRUE(doc.is_array());
  ASSERT_EQ(doc.size(), 3u);
  EXPECT_EQ(doc[1]["log_message"], "b\nc");
  EXPECT_EQ(doc[1]["predicted_label"], "HTTP Status");
  EXPECT_EQ(doc[2]["n"], "3");

  auto reader = reader_for(Format::csv, input);
  auto writer = RecordWriter::to_string(*reader, WriteOptions{Format::json, false});
  std::vector<Record> records(3);
  for (Record& r : records) ASSERT_TRUE(reader->next(r));
  std::string first, rest;
  writer->format(records[0], rule_prediction(), first);
  writer->format(records[1], model_prediction(), rest);
  writer->format(records[2], rule_prediction(), rest);
  writer->write_formatted("");
  writer->write_formatted(first);
  writer->write_formatted(rest);
  writer->commit();
  EXPECT_EQ(writer->str(), json);

  EXPECT_EQ(classify(Format::csv, "log_message\n", Format::json), "[]\n");
}

}  // namespace
}  // namespace logclf
