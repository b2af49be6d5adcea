#include "kafka/support/log_corpus.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "logclf/io.h"
#include "support/paths.h"
#include "support/run.h"

namespace logclf::testing {

const LogCorpus& LogCorpus::instance() {
  static const LogCorpus corpus;
  return corpus;
}

LogCorpus::LogCorpus() {
  const auto path = shared_file("data/synthetic_logs.csv");
  if (path.empty()) throw std::runtime_error((shared_dir() / "data/synthetic_logs.csv").string() + " is missing");
  // The project's own CSV reader: messages hold quoted commas and doubled quotes.
  ReadOptions options;
  options.format = Format::csv;
  const auto reader = RecordReader::open(path.string(), options);
  const auto& columns = reader->columns();
  const auto timestamp = std::find(columns.begin(), columns.end(), "timestamp") - columns.begin();
  if (timestamp == static_cast<std::ptrdiff_t>(columns.size()))
    throw std::runtime_error(path.string() + " has no timestamp column");
  for (Record record; reader->next(record);)
    rows_.push_back({record.fields.at(static_cast<std::size_t>(timestamp)), record.source, record.message});
  if (rows_.empty()) throw std::runtime_error(path.string() + " has no rows");
}

std::vector<KafkaRecord> LogCorpus::records(std::size_t count, int partitions) const {
  std::vector<KafkaRecord> records(count);
  for (std::size_t seq = 0; seq < count; ++seq) {
    const Row& row = rows_[seq % rows_.size()];
    const nlohmann::ordered_json value = {
        {"timestamp", row.timestamp}, {"source", row.source}, {"log_message", row.message}, {"seq", seq}};
    records[seq].partition = static_cast<std::int32_t>(seq % 1000 % static_cast<std::size_t>(partitions));
    records[seq].key = "k" + std::to_string(seq % 1000);
    records[seq].value = value.dump();
  }
  return records;
}

std::vector<std::string> reference_labels(const std::vector<KafkaRecord>& records) {
  TempDir dir;
  {
    std::ofstream in(dir / "in.jsonl", std::ios::binary);
    for (const auto& record : records) in << record.value << '\n';
  }
  const auto result = run(cli() + " classify --quiet --format jsonl " + (dir / "in.jsonl") + " -o " + (dir / "out.jsonl"));
  if (result.status != 0) throw std::runtime_error("logclf classify failed: " + result.output);
  std::vector<std::string> labels;
  std::ifstream out(dir / "out.jsonl", std::ios::binary);
  for (std::string line; std::getline(out, line);)
    labels.push_back(nlohmann::json::parse(line).at("predicted_label").get<std::string>());
  if (labels.size() != records.size())
    throw std::runtime_error("logclf classify wrote " + std::to_string(labels.size()) + " labels for " +
                             std::to_string(records.size()) + " records");
  return labels;
}

}  // namespace logclf::testing
