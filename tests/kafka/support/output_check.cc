#include "kafka/support/output_check.h"

#include <map>
#include <nlohmann/json.hpp>

namespace logclf::testing {
namespace {

constexpr std::size_t kExamplesPerKind = 5;

void note(std::size_t& counter, std::vector<std::string>& examples, const std::string& example) {
  if (counter++ < kExamplesPerKind) examples.push_back(example);
}

std::optional<std::size_t> seq_in(const nlohmann::json& value) {
  if (!value.is_object()) return std::nullopt;
  const auto seq = value.find("seq");
  if (seq == value.end() || !seq->is_number_unsigned()) return std::nullopt;
  return seq->get<std::size_t>();
}

std::string where(const KafkaRecord& record) {
  return "partition " + std::to_string(record.partition) + " offset " + std::to_string(record.offset);
}

}  // namespace

std::string OutputCheck::summary() const {
  std::string text = std::to_string(outputs) + " outputs: " + std::to_string(missing) + " inputs missing, " +
                     std::to_string(duplicates) + " duplicates, " + std::to_string(out_of_order) +
                     " out of order, " + std::to_string(mislabeled) + " mislabeled, " + std::to_string(mismatched) +
                     " mismatched";
  for (const auto& example : examples) text += "\n  " + example;
  return text;
}

std::optional<std::size_t> seq_of(const std::string& value) {
  return seq_in(nlohmann::json::parse(value, nullptr, false));
}

OutputCheck check_output(const std::vector<KafkaRecord>& outputs, const std::vector<KafkaRecord>& inputs,
                         const std::vector<std::string>& labels, int output_partitions) {
  OutputCheck check;
  check.outputs = outputs.size();
  std::vector<const KafkaRecord*> first(inputs.size());  // each input's first output
  std::map<std::pair<std::string, std::int32_t>, std::size_t> last_seq;  // per topic partition, its last one's
  for (const auto& output : outputs) {
    const auto json = nlohmann::json::parse(output.value, nullptr, false);
    const auto seq = seq_in(json);
    if (!seq || *seq >= inputs.size()) {
      note(check.mismatched, check.examples, where(output) + ": no seq of an input in " + output.value);
      continue;
    }
    const KafkaRecord& input = inputs[*seq];
    const std::string context = where(output) + " (seq " + std::to_string(*seq) + ")";
    if (first[*seq]) {
      note(check.duplicates, check.examples, context + ": a duplicate of the output at " + where(*first[*seq]));
      continue;
    }
    first[*seq] = &output;
    if (auto [last, fresh] = last_seq.try_emplace(std::pair(output.topic, output.partition), *seq); !fresh) {
      if (*seq < last->second)
        note(check.out_of_order, check.examples,
             context + ": after seq " + std::to_string(last->second) + " in the same partition");
      last->second = *seq;
    }
    const auto input_json = nlohmann::json::parse(input.value);
    const auto label = json.value("predicted_label", nlohmann::json());
    if (label != labels[*seq])
      note(check.mislabeled, check.examples,
           context + ": predicted_label " + label.dump() + ", logclf classify says \"" + labels[*seq] + "\"");
    if (json.value("log_message", nlohmann::json()) != input_json.at("log_message"))
      note(check.mismatched, check.examples, context + ": another log_message than the input's: " + output.value);
    if (output.key != input.key)
      note(check.mismatched, check.examples,
           context + ": key " + output.key.value_or("(none)") + ", the input's " + input.key.value_or("(none)"));
    if (output.partition != input.partition % output_partitions)
      note(check.mismatched, check.examples,
           context + ": the input was in partition " + std::to_string(input.partition));
  }
  for (std::size_t seq = 0; seq < inputs.size(); ++seq)
    if (first[seq] == nullptr) note(check.missing, check.examples, "seq " + std::to_string(seq) + ": no output");
  return check;
}

bool read_until_every_seq(TopicReader& reader, std::size_t count, std::chrono::milliseconds idle_timeout) {
  std::vector<bool> seen(count);
  std::size_t distinct = 0;
  const auto see = [&](const KafkaRecord& record) {
    if (const auto seq = seq_of(record.value); seq && *seq < count && !seen[*seq]) {
      seen[*seq] = true;
      ++distinct;
    }
    return distinct == count;
  };
  for (const auto& record : reader.records()) see(record);
  return distinct == count || reader.read_until(see, idle_timeout);
}

}  // namespace logclf::testing
