// librdkafka clients as the worker needs them: configurations (the worker's settings, then the user's -X
// properties), topic partition counts, and creating the routing topics.
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <memory>
#include <string>
#include <vector>

#include "logclf/kafka.h"

namespace logclf::kafka {

enum class Role { consumer, producer };

// The configuration of one client. Throws Error naming the property a value was refused for.
std::unique_ptr<RdKafka::Conf> make_conf(const KafkaOptions& options, Role role);
// Sets `name` to `value` (a string, or a callback object); throws Error("librdkafka property NAME: problem").
template <typename Value>
void set(RdKafka::Conf& conf, const std::string& name, const Value& value) {
  std::string problem;
  if (conf.set(name, value, problem) != RdKafka::Conf::CONF_OK)
    throw Error("librdkafka property " + name + ": " + problem);
}

// The topic's partition count, or 0 when the broker says it does not exist. Throws Error when the
// cluster cannot be reached in `timeout_ms`.
int partition_count(RdKafka::Handle& client, const std::string& topic, int timeout_ms);

// Creates `topic` with `partitions` partitions (and the broker's default replication); a topic created
// meanwhile by another worker is fine. Throws Error.
void create_topic(RdKafka::Handle& client, const std::string& topic, int partitions, int timeout_ms);

std::string describe(const RdKafka::Error& error);

}  // namespace logclf::kafka
