#include "kafka/offsets.h"

#include <algorithm>

namespace logclf::kafka {

OffsetTracker::Slot* OffsetTracker::add(const std::string& topic, std::int32_t partition, std::int64_t offset) {
  std::unique_ptr<Partition>& p = partitions_[{topic, partition}];
  if (!p) {
    p = std::make_unique<Partition>();
    p->topic = topic;
    p->id = partition;
    p->committed = offset;  // where reading started: committing it again would say nothing new
  }
  p->next = offset + 1;
  p->in_flight.push_back({p.get(), offset, false});
  ++in_flight_;
  return &p->in_flight.back();
}

void OffsetTracker::ack(Slot* slot) {
  slot->acked = true;
  Partition& p = *slot->partition;
  // Acknowledgements come in produce order per output partition, not always per input partition (with
  // routing or key partitioning), so acked slots behind an unacked one wait for it.
  while (!p.in_flight.empty() && p.in_flight.front().acked) {
    p.in_flight.pop_front();
    --in_flight_;
  }
  if (p.revoked && p.in_flight.empty())
    std::erase_if(revoked_, [&](const std::unique_ptr<Partition>& r) { return r.get() == &p; });
}

std::vector<std::pair<const OffsetTracker::Partition*, std::int64_t>> OffsetTracker::committable() const {
  std::vector<std::pair<const Partition*, std::int64_t>> out;
  for (const auto& [key, p] : partitions_) {
    const std::int64_t offset = committable(*p);
    if (offset > p->committed) out.emplace_back(p.get(), offset);
  }
  return out;
}

void OffsetTracker::mark_committed(const std::string& topic, std::int32_t partition, std::int64_t offset) {
  auto it = partitions_.find({topic, partition});
  if (it != partitions_.end() && offset > it->second->committed) it->second->committed = offset;
}

void OffsetTracker::remove(const std::string& topic, std::int32_t partition) {
  auto it = partitions_.find({topic, partition});
  if (it == partitions_.end()) return;
  if (!it->second->in_flight.empty()) {
    it->second->revoked = true;
    revoked_.push_back(std::move(it->second));
  }
  partitions_.erase(it);
}

}  // namespace logclf::kafka
