#include <fmt/format.h>

#include <string>

#include "logclf/kafka.h"

namespace logclf {

namespace {

// A label value in the text exposition format: backslash, quote and newline escaped.
std::string quoted(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out + '"';
}

void metric(std::string& out, const char* name, const char* type, const char* help, double value) {
  out += std::string("# HELP ") + name + ' ' + help + "\n# TYPE " + name + ' ' + type + '\n' + name + ' ';
  out += fmt::format("{}\n", value);
}

}  // namespace

std::string to_prometheus(const KafkaMetrics& m) {
  std::string out;
  const auto count = [](std::uint64_t n) { return static_cast<double>(n); };
  metric(out, "logclf_kafka_records_in_total", "counter", "Records consumed and handled.", count(m.records_in));
  metric(out, "logclf_kafka_records_out_total", "counter", "Outputs acknowledged by the broker.", count(m.records_out));
  metric(out, "logclf_kafka_dead_letters_total", "counter", "Bad records sent to the dead-letter topic.",
         count(m.dead_letters));
  metric(out, "logclf_kafka_errors_total", "counter", "Client errors (broker lost, failed commits).", count(m.errors));
  metric(out, "logclf_kafka_commits_total", "counter", "Offset commits or committed transactions.", count(m.commits));
  metric(out, "logclf_kafka_rebalances_total", "counter", "Partition assignments and revocations.",
         count(m.rebalances));
  metric(out, "logclf_kafka_in_flight_bytes", "gauge", "Output bytes produced and not yet acknowledged.",
         count(m.in_flight_bytes));
  out += "# HELP logclf_kafka_batch_seconds Time from a batch's first record consumed to its outputs produced.\n"
         "# TYPE logclf_kafka_batch_seconds summary\n";
  out += fmt::format("logclf_kafka_batch_seconds_sum {}\n", m.batch_seconds_sum);
  out += "logclf_kafka_batch_seconds_count " + std::to_string(m.batches) + '\n';
  metric(out, "logclf_kafka_batch_seconds_max", "gauge", "The longest batch so far.", m.batch_seconds_max);
  out += "# HELP logclf_kafka_lag Records behind the end of an assigned input partition.\n"
         "# TYPE logclf_kafka_lag gauge\n";
  for (const auto& [partition, lag] : m.lag) {
    const auto slash = partition.rfind('/');
    out += "logclf_kafka_lag{topic=" + quoted(partition.substr(0, slash)) +
           ",partition=" + quoted(partition.substr(slash + 1)) + "} " + std::to_string(lag) + '\n';
  }
  out += "# HELP logclf_kafka_records_by_label_total Records classified, by label.\n"
         "# TYPE logclf_kafka_records_by_label_total counter\n";
  for (const auto& [label, n] : m.per_label)
    out += "logclf_kafka_records_by_label_total{label=" + quoted(label) + "} " + std::to_string(n) + '\n';
  metric(out, "logclf_kafka_cache_lookups_total", "counter", "Message cache lookups.", count(m.cache.lookups));
  metric(out, "logclf_kafka_cache_hits_total", "counter", "Message cache hits.", count(m.cache.hits));
  return out;
}

}  // namespace logclf
