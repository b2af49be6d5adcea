#include "kafka/support/broker.h"

#include <librdkafka/rdkafka.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <random>
#include <stdexcept>
#include <thread>

#include "kafka/support/clients.h"
#include "support/paths.h"

namespace logclf::testing {
namespace {

using namespace std::chrono_literals;

bool on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::string_view dirs = path != nullptr ? path : "";
  while (!dirs.empty()) {
    const std::size_t colon = std::min(dirs.find(':'), dirs.size());
    const auto candidate = std::filesystem::path(dirs.substr(0, colon)) / program;
    if (::access(candidate.c_str(), X_OK) == 0) return true;
    dirs.remove_prefix(std::min(colon + 1, dirs.size()));
  }
  return false;
}

bool port_free(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return free;
}

// A port whose successor is free too (the controller's), chosen below the kernel's ephemeral range: while the
// broker is stopped for a restart, its clients reconnect from ephemeral ports, and one of them could
// otherwise take the port the broker is about to listen on again.
int free_port_pair() {
  int ephemeral_low = 32768;
  std::ifstream("/proc/sys/net/ipv4/ip_local_port_range") >> ephemeral_low;
  std::mt19937 random(static_cast<unsigned>(::getpid()) ^ static_cast<unsigned>(std::random_device{}()));
  std::uniform_int_distribution<int> pick(10000, std::max(10002, ephemeral_low) - 2);
  for (int attempt = 0; attempt < 200; ++attempt) {
    const int port = pick(random);
    if (port_free(port) && port_free(port + 1)) return port;
  }
  throw std::runtime_error("no two free consecutive loopback ports below " + std::to_string(ephemeral_low));
}

template <typename T, void (*destroy)(T*)>
struct Deleter {
  void operator()(T* p) const { destroy(p); }
};
template <typename T, void (*destroy)(T*)>
using Owned = std::unique_ptr<T, Deleter<T, destroy>>;

}  // namespace

KafkaBroker& KafkaBroker::instance() {
  static KafkaBroker broker;
  return broker;
}

KafkaBroker::KafkaBroker() {
  script_ = shared_dir() / "kafka" / "start-kafka.sh";
  if (!std::filesystem::exists(script_)) {
    unavailable_ = script_.string() + " is missing (the shared Kafka broker beside the checkout)";
  } else if (!on_path("java")) {
    unavailable_ = "`java` is not on PATH: the Kafka broker needs Java 17+ (Debian: openjdk-17-jre-headless)";
  } else {
    try {
      port_ = free_port_pair();
    } catch (const std::exception& e) {
      error_ = e.what();
      return;
    }
    start();
  }
}

KafkaBroker::~KafkaBroker() {
  if (process_) stop();
}

void KafkaBroker::start() {
  const auto log = data_.path() / "start-kafka.out";
  std::filesystem::remove(log);
  // SIGTERM if the test process dies: the script's trap then stops the JVM cleanly.
  process_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{script_.string(), (data_.path() / "broker").string(), std::to_string(port_)}, EnvVars{},
      log, SIGTERM);
  const std::string ready = "ready " + bootstrap();
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (read_text(log).find(ready) == std::string::npos) {
    const auto status = process_->wait(0ms);
    if (status || std::chrono::steady_clock::now() > deadline) {
      error_ = "the Kafka broker (" + script_.string() + " on port " + std::to_string(port_) + ") " +
               (status ? "ended with " + status->to_string() : "was not ready within 60 s") +
               "\n--- its output:\n" + tail(log, 20) + "--- the end of its server.log:\n" +
               tail(data_.path() / "broker" / "logs" / "server.log", 40);
      stop();
      return;
    }
    std::this_thread::sleep_for(50ms);
  }
  error_.clear();
}

void KafkaBroker::stop() {
  if (!process_) return;
  process_->signal(SIGTERM);
  if (!process_->wait(60s)) {
    process_->signal(SIGKILL);
    process_->wait(10s);
  }
  process_.reset();
}

void KafkaBroker::create_topic(const std::string& name, int partitions) const {
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap().c_str(), errstr, sizeof errstr);
  Owned<rd_kafka_t, rd_kafka_destroy> admin(rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr));
  if (!admin) throw std::runtime_error(std::string("rd_kafka_new: ") + errstr);
  Owned<rd_kafka_NewTopic_t, rd_kafka_NewTopic_destroy> topic(
      rd_kafka_NewTopic_new(name.c_str(), partitions, 1, errstr, sizeof errstr));
  if (!topic) throw std::runtime_error("topic " + name + ": " + errstr);
  Owned<rd_kafka_AdminOptions_t, rd_kafka_AdminOptions_destroy> options(
      rd_kafka_AdminOptions_new(admin.get(), RD_KAFKA_ADMIN_OP_CREATETOPICS));
  // Wait for the controller to have created it, not only for the request to be accepted.
  rd_kafka_AdminOptions_set_operation_timeout(options.get(), 30000, errstr, sizeof errstr);
  Owned<rd_kafka_queue_t, rd_kafka_queue_destroy> queue(rd_kafka_queue_new(admin.get()));
  rd_kafka_NewTopic_t* topics[] = {topic.get()};
  rd_kafka_CreateTopics(admin.get(), topics, 1, options.get(), queue.get());
  Owned<rd_kafka_event_t, rd_kafka_event_destroy> event(rd_kafka_queue_poll(queue.get(), 60000));
  if (!event) throw std::runtime_error("creating topic " + name + ": no answer within 60 s");
  if (rd_kafka_event_error(event.get()))
    throw std::runtime_error("creating topic " + name + ": " + rd_kafka_event_error_string(event.get()));
  std::size_t count = 0;
  const rd_kafka_topic_result_t** results =
      rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event.get()), &count);
  for (std::size_t i = 0; i < count; ++i)
    if (rd_kafka_topic_result_error(results[i]))
      throw std::runtime_error("creating topic " + name + ": " + rd_kafka_topic_result_error_string(results[i]));
  // Producers and workers started right after look the topic up in the broker's metadata.
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (partition_count(bootstrap(), name) != partitions) {
    if (std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error("topic " + name + " was created but its metadata did not show it within 30 s");
    std::this_thread::sleep_for(50ms);
  }
}

}  // namespace logclf::testing
