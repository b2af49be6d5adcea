#include "server/workers.h"

namespace logclf::server {

Workers::Workers(std::size_t max, Starter start) : max_(max), start_(std::move(start)) {}

void Workers::submit(std::function<void()> job) {
  std::lock_guard lock(mutex_);
  jobs_.push_back(std::move(job));
  if (idle_ < jobs_.size() && threads_.size() < max_) {
    try {
      threads_.push_back(start_([this] { work(); }));
      return;
    } catch (...) {
      // With a thread already running, the job waits for it like any other; with none, nothing would
      // ever run it, so it must not stay queued.
      if (threads_.empty()) {
        jobs_.pop_back();
        throw;
      }
    }
  }
  ready_.notify_one();
}

void Workers::stop() {
  {
    std::lock_guard lock(mutex_);
    done_ = true;
  }
  ready_.notify_all();
  for (std::thread& t : threads_) t.join();
  threads_.clear();
  done_ = false;
}

void Workers::work() {
  std::unique_lock lock(mutex_);
  for (;;) {
    ++idle_;
    ready_.wait(lock, [this] { return done_ || !jobs_.empty(); });
    --idle_;
    if (jobs_.empty()) return;
    std::function<void()> job = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    job();
    lock.lock();
  }
}

}  // namespace logclf::server
