#include "server/batcher.h"

#include <algorithm>
#include <iterator>
#include <string>

namespace logclf::server {

MicroBatcher::MicroBatcher(BatchFunction classify, std::chrono::microseconds max_wait, std::size_t max_lines)
    : classify_(std::move(classify)), max_wait_(max_wait), max_lines_(std::max<std::size_t>(max_lines, 1)),
      thread_([this] { run(); }) {}

MicroBatcher::~MicroBatcher() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  queued_.notify_one();
  thread_.join();
}

std::vector<Prediction> MicroBatcher::classify(std::span<const LogLine> lines) {
  if (lines.empty()) return {};
  Pending pending;
  pending.lines = lines;
  std::unique_lock lock(mutex_);
  pending.arrived = Clock::now();
  queue_.push_back(&pending);
  queued_lines_ += lines.size();
  // The batch thread waits for the first request, or for a batch to fill up.
  if (queue_.size() == 1 || queued_lines_ >= max_lines_) queued_.notify_one();
  pending.finished.wait(lock, [&] { return pending.done; });
  if (pending.error) std::rethrow_exception(pending.error);
  return std::move(pending.results);
}

void MicroBatcher::run() {
  std::vector<Pending*> batch;
  for (;;) {
    std::unique_lock lock(mutex_);
    queued_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and nothing left to do
    // The oldest request has waited since it arrived, also while the previous batch ran.
    queued_.wait_until(lock, queue_.front()->arrived + max_wait_,
                       [&] { return stopping_ || queued_lines_ >= max_lines_; });
    batch.clear();
    std::size_t lines = 0;
    while (!queue_.empty() && (batch.empty() || lines + queue_.front()->lines.size() <= max_lines_)) {
      lines += queue_.front()->lines.size();
      batch.push_back(queue_.front());
      queue_.pop_front();
    }
    queued_lines_ -= lines;
    lock.unlock();
    run_batch(batch);
  }
}

void MicroBatcher::run_batch(const std::vector<Pending*>& batch) {
  std::vector<LogLine> lines;
  for (const Pending* p : batch) lines.insert(lines.end(), p->lines.begin(), p->lines.end());
  std::vector<Prediction> results;
  std::exception_ptr error;
  try {
    results = classify_(lines);
    if (results.size() != lines.size())
      throw Error("batch classifier returned " + std::to_string(results.size()) + " predictions for " +
                  std::to_string(lines.size()) + " lines");
  } catch (...) {
    error = std::current_exception();
  }
  std::size_t offset = 0;
  for (Pending* p : batch) {
    const std::size_t n = p->lines.size();
    std::lock_guard lock(mutex_);
    if (error) {
      p->error = error;
    } else {
      p->results.assign(std::make_move_iterator(results.begin() + static_cast<std::ptrdiff_t>(offset)),
                        std::make_move_iterator(results.begin() + static_cast<std::ptrdiff_t>(offset + n)));
    }
    offset += n;
    p->done = true;
    // Notified under the lock: the waiter owns `p` and may destroy it as soon as it sees done.
    p->finished.notify_one();
  }
}

}  // namespace logclf::server
