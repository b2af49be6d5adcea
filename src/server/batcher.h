// Gathers the lines of concurrent requests into shared batches for an encoder whose cost per call is
// high and whose cost per extra line is low (the E5 forward pass): a request waits at most `max_wait`
// for others to join, and a batch runs as soon as it holds `max_lines`.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "logclf/types.h"

namespace logclf::server {

class MicroBatcher {
 public:
  // Classifies a batch: one prediction per line, in order (Classifier::classify_batch).
  using BatchFunction = std::function<std::vector<Prediction>(std::span<const LogLine>)>;

  MicroBatcher(BatchFunction classify, std::chrono::microseconds max_wait, std::size_t max_lines);
  // Runs what is queued, then stops.
  ~MicroBatcher();
  MicroBatcher(const MicroBatcher&) = delete;
  MicroBatcher& operator=(const MicroBatcher&) = delete;

  // The predictions for `lines`, in their order, computed in a batch shared with other callers. Blocks
  // until done; rethrows what the batch function threw. The lines of one call stay together in a batch.
  std::vector<Prediction> classify(std::span<const LogLine> lines);

 private:
  using Clock = std::chrono::steady_clock;
  struct Pending {
    std::span<const LogLine> lines;
    Clock::time_point arrived;
    std::vector<Prediction> results;
    std::exception_ptr error;
    bool done = false;
    std::condition_variable finished;
  };

  void run();
  void run_batch(const std::vector<Pending*>& batch);

  BatchFunction classify_;
  std::chrono::microseconds max_wait_;
  std::size_t max_lines_;
  std::mutex mutex_;
  std::condition_variable queued_;
  std::deque<Pending*> queue_;
  std::size_t queued_lines_ = 0;
  bool stopping_ = false;
  std::thread thread_;  // last: starts once the members above exist
};

}  // namespace logclf::server
