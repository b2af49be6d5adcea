// The real Kafka broker of ../shared/kafka (start-kafka.sh), one per test process: started on first use on a
// fresh data directory and a free loopback port, stopped when the process ends.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "kafka/support/child_process.h"
#include "support/run.h"

namespace logclf::testing {

class KafkaBroker {
 public:
  // The broker of this process; the first call starts it (about 6 s), or records why it could not.
  static KafkaBroker& instance();

  // Why the tests cannot run here (no `java` on PATH, no ../shared/kafka): they skip. Empty otherwise.
  const std::string& unavailable() const { return unavailable_; }
  // Why the broker failed to start or restart (with the end of its log): the tests fail. Empty otherwise.
  const std::string& error() const { return error_; }

  std::string bootstrap() const { return "127.0.0.1:" + std::to_string(port_); }
  // Creates a topic (replication 1) and waits until its metadata shows every partition. Throws on failure.
  void create_topic(const std::string& name, int partitions) const;

  // SIGTERM, as an operator would stop it; waits for it to end. For tests of a broker going away.
  void stop();
  // Starts it again on the same data directory (topics and committed offsets survive) and port.
  void start();

  ~KafkaBroker();

 private:
  KafkaBroker();

  std::string unavailable_;
  std::string error_;
  std::filesystem::path script_;
  TempDir data_;
  int port_ = 0;  // the controller listens on port_ + 1
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace logclf::testing
