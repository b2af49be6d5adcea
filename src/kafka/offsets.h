// At-least-once bookkeeping: which input offsets may be committed. An offset is committable once the
// output of its record and of every earlier record of its partition has been acknowledged by the broker.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace logclf::kafka {

class OffsetTracker {
 public:
  struct Partition;
  // One record's output in flight; its address is the produce call's opaque and stays valid until acked,
  // even when its partition is revoked meanwhile.
  struct Slot {
    Partition* partition = nullptr;
    std::int64_t offset = 0;
    bool acked = false;
  };
  struct Partition {
    std::string topic;
    std::int32_t id = 0;
    std::deque<Slot> in_flight;   // in offset order (std::deque keeps addresses on push_back/pop_front)
    std::int64_t next = -1;       // the offset after the last record handled
    std::int64_t committed = -1;  // the last offset committed (the next record to read), or the first read
    bool revoked = false;         // kept only until its outputs in flight are acknowledged
  };

  // A record taken on; its slot is to be acked when its output is acknowledged.
  Slot* add(const std::string& topic, std::int32_t partition, std::int64_t offset);
  void ack(Slot* slot);
  // Offsets that may be committed and were not yet: (partition, offset) with offset the next record to
  // read. mark_committed() records that they were.
  std::vector<std::pair<const Partition*, std::int64_t>> committable() const;
  void mark_committed(const std::string& topic, std::int32_t partition, std::int64_t offset);
  // Forgets a revoked partition: nothing of it is committable any more. Its outputs still in flight may
  // be acked later (their slots stay valid until then); a new assignment of it starts afresh.
  void remove(const std::string& topic, std::int32_t partition);
  // Outputs not yet acknowledged, or acknowledged behind one that is not.
  std::size_t in_flight() const { return in_flight_; }

 private:
  static std::int64_t committable(const Partition& p) { return p.in_flight.empty() ? p.next : p.in_flight.front().offset; }
  std::map<std::pair<std::string, std::int32_t>, std::unique_ptr<Partition>> partitions_;
  std::vector<std::unique_ptr<Partition>> revoked_;  // with outputs still in flight
  std::size_t in_flight_ = 0;
};

}  // namespace logclf::kafka
