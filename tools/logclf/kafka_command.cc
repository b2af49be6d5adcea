// `logclf kafka`: a classifier worker in a Kafka consumer group (src/kafka), with Prometheus metrics over
// HTTP and a progress line on a terminal.
#include <fmt/format.h>
#include <httplib.h>
#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <thread>

#include "args.h"
#include "command.h"
#include "config_file.h"
#include "logclf/kafka.h"

namespace logclf::cli {

namespace {

struct KafkaArgs {
  KafkaOptions options;
  std::string model_dir, config_file, input_format = "auto", partition_by = "input", message_keys;
  std::vector<std::string> properties;  // -X key=value
  std::string metrics_host = "127.0.0.1";
  int metrics_port = -1;
  int commit_interval_ms = 0;
  bool quiet = false;
  EncoderArgs encoder;
  CacheArgs cache;
};

// --config FILE: the options the command line leaves unset, and librdkafka properties (before the -X ones)
// from its `properties` section.
void apply_config(CLI::App& cmd, KafkaArgs& a) {
  std::vector<ConfigSection> sections = {{"properties", {}}};
  apply_config_file(cmd, a.config_file, sections);
  a.properties.insert(a.properties.begin(), sections[0].entries.begin(), sections[0].entries.end());
}

std::vector<std::string> split_list(const std::vector<std::string>& values) {
  std::vector<std::string> out;
  for (const std::string& v : values)
    for (std::size_t begin = 0, end; begin <= v.size(); begin = end + 1) {
      end = std::min(v.find(',', begin), v.size());
      if (end > begin) out.push_back(v.substr(begin, end - begin));
    }
  return out;
}

int run_kafka(CLI::App& cmd, KafkaArgs& a) {
  if (!a.config_file.empty()) apply_config(cmd, a);
  // Required, from the command line or the config file (CLI11's own check would not see the file).
  for (const char* name : {"--brokers", "--input-topic", "--output-topic", "--group"})
    if (cmd.get_option(name)->count() == 0)
      throw UsageError(std::string(name) + " is required (on the command line or in --config)");
  KafkaOptions options = a.options;
  options.input_topics = split_list(options.input_topics);
  if (!a.message_keys.empty()) options.message_keys = split_list({a.message_keys});
  options.input_format = a.input_format == "json"   ? KafkaInputFormat::json
                         : a.input_format == "text" ? KafkaInputFormat::text
                                                    : KafkaInputFormat::automatic;
  options.commit_interval = std::chrono::milliseconds(a.commit_interval_ms);
  options.partitioning = a.partition_by == "key" ? KafkaPartitioning::key : KafkaPartitioning::input;
  for (const std::string& p : a.properties) {
    const auto eq = p.find('=');
    if (eq == std::string::npos || eq == 0) throw Error("-X " + p + ": expected key=value");
    options.properties.emplace_back(p.substr(0, eq), p.substr(eq + 1));
  }
  static std::atomic<bool> stop{false};
  // SIGINT / SIGTERM drain the worker; a second one ends the process at once.
  auto handler = [](int sig) {
    if (!stop.exchange(true)) return;
    std::signal(sig, SIG_DFL);
    std::raise(sig);
  };
  std::signal(SIGINT, handler);
  std::signal(SIGTERM, handler);

  const Classifier classifier = load_model(a.model_dir, a.encoder);
  CacheOptions cache{*parse_cache_mode(a.cache.mode), a.cache.size};
  cache.template_min_confidence = a.cache.min_confidence;
  KafkaWorker worker(classifier, options, cache);

  httplib::Server metrics;
  std::thread serving;
  if (a.metrics_port >= 0) {
    metrics.Get("/metrics", [&](const httplib::Request&, httplib::Response& res) {
      res.set_content(to_prometheus(worker.metrics()), "text/plain; version=0.0.4");
    });
    const int port = a.metrics_port == 0 ? metrics.bind_to_any_port(a.metrics_host)
                                         : (metrics.bind_to_port(a.metrics_host, a.metrics_port) ? a.metrics_port : -1);
    if (port < 0) throw Error(fmt::format("cannot listen on {}:{} for metrics", a.metrics_host, a.metrics_port));
    serving = std::thread([&] { metrics.listen_after_bind(); });
    fmt::print(stderr, "logclf kafka: metrics on http://{}:{}/metrics\n", a.metrics_host, port);
  }
  // One line, rewritten every 2 s, while standard error is a terminal.
  std::atomic<bool> done{false};
  std::thread progress;
  if (!a.quiet && !quiet && isatty(STDERR_FILENO)) {
    progress = std::thread([&] {
      std::uint64_t last = 0;
      while (!done) {
        for (int i = 0; i < 20 && !done; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
        const KafkaMetrics m = worker.metrics();
        std::int64_t lag = 0;
        for (const auto& [partition, n] : m.lag) lag += n;
        fmt::print(stderr, "\r\033[K{} in ({:.0f}/s), {} out, lag {}, {} dead letters, {} errors", m.records_in,
                   (m.records_in - last) / 2.0, m.records_out, lag, m.dead_letters, m.errors);
        last = m.records_in;
      }
      fmt::print(stderr, "\n");
    });
  }
  std::exception_ptr failure;
  try {
    worker.run(stop);
  } catch (...) {
    failure = std::current_exception();
  }
  done = true;
  if (progress.joinable()) progress.join();
  if (serving.joinable()) {
    metrics.stop();
    serving.join();
  }
  if (failure) std::rethrow_exception(failure);
  return 0;
}

}  // namespace

void add_kafka_command(CLI::App& app, Commands& commands) {
  auto a = std::make_shared<KafkaArgs>();
  auto* cmd = app.add_subcommand("kafka", "classify a Kafka topic into another, as a worker of a consumer group");
  KafkaOptions& o = a->options;
  cmd->add_option("--brokers", o.brokers, "bootstrap servers (required, as are the three below), HOST:PORT[,HOST:PORT...]");
  cmd->add_option("--input-topic", o.input_topics, "topic(s) to classify (repeatable, or comma-separated)");
  cmd->add_option("--output-topic", o.output_topic, "topic the labelled records go to (must exist)");
  cmd->add_option("--group", o.group, "consumer group: workers of one group share the input's partitions");
  cmd->add_option("-m,--model", a->model_dir, "model directory (default: the built-in model)");
  a->encoder.add_to(cmd, false);
  cmd->add_option("--dead-letter", o.dead_letter_topic,
                  "topic for records that cannot be read, with the problem in header logclf.error (created when "
                  "missing); without it such a record stops the worker");
  cmd->add_flag("--route", o.route,
                "send each label to its own topic, OUTPUT.<label> (e.g. labelled.security-alert), created when missing");
  cmd->add_flag("--explain", o.explain, "add stage, rule and confidence to each output record");
  cmd->add_flag("--exactly-once", o.exactly_once,
                "Kafka transactions: each input's output exactly once for read_committed readers (default: "
                "at-least-once)");
  cmd->add_option("--message-key", a->message_keys,
                  "JSON key(s) of the message, comma-separated, the first present is used (default: "
                  "log_message,message,log,msg)");
  cmd->add_option("--source-key", o.source_key, "JSON key of the source")->capture_default_str();
  cmd->add_option("--input-format", a->input_format,
                  "record values: json (objects), text (the whole value is the message) or auto (json when it "
                  "starts with '{')")
      ->capture_default_str()->check(CLI::IsMember({"auto", "json", "text"}));
  cmd->add_option("--partition-by", a->partition_by,
                  "output partition: input (the input record's partition number: input order kept) or key (as "
                  "Java producers hash keys)")
      ->capture_default_str()->check(CLI::IsMember({"input", "key"}));
  cmd->add_flag("--strict", o.strict_utf8, "a value with invalid UTF-8 is a bad record (default: replaced by U+FFFD)");
  cmd->add_option("--batch", o.batch_records, "records classified together")->capture_default_str()->check(CLI::Range(1, 65536));
  cmd->add_option("--commit-interval-ms", a->commit_interval_ms,
                  "how often offsets (or transactions) are committed; default 1000, with --exactly-once 100")
      ->check(CLI::Range(0, 3600000));
  cmd->add_option("--max-in-flight", o.in_flight_bytes, "output bytes produced but not yet acknowledged, at most")
      ->default_str("64MiB")->transform(CLI::AsSizeValue(false));
  cmd->add_option("--fetch-queue", o.fetch_queue_bytes, "input bytes fetched ahead, at most")
      ->default_str("32MiB")->transform(CLI::AsSizeValue(false));
  cmd->add_option("--max-record", o.max_record_bytes, "a longer record value is a bad record")
      ->default_str("1MiB")->transform(CLI::AsSizeValue(false));
  cmd->add_option("--client-id", o.client_id, "client.id the brokers see")->capture_default_str();
  cmd->add_option("-X", a->properties,
                  "librdkafka property KEY=VALUE for both clients, e.g. security.protocol=SASL_SSL; prefix the key "
                  "with consumer. or producer. for one client (repeatable)");
  cmd->add_option("--config", a->config_file,
                  "YAML (.yaml, .yml) or TOML key/value file of any of these options by long name (brokers: k1:9092 "
                  "or brokers = \"k1:9092\"), and a properties section of librdkafka properties; the command line "
                  "wins");
  cmd->add_option("--metrics-port", a->metrics_port, "serve Prometheus metrics at /metrics on this port (0: a free one)")
      ->check(CLI::Range(0, 65535));
  cmd->add_option("--metrics-host", a->metrics_host, "address of the metrics endpoint")->capture_default_str();
  cmd->add_flag("-q,--quiet", a->quiet, "no progress line on a terminal");
  a->cache.add_to(cmd, "exact");
  commands.push_back({cmd, [cmd, a] { return run_kafka(*cmd, *a); }});
}

}  // namespace logclf::cli
