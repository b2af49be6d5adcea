// Threads for the requests that may block (large bodies, CSV uploads, streamed responses): created when
// needed, up to `max`; further jobs wait in a queue.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace logclf::server {

class Workers {
 public:
  using Starter = std::function<std::thread(std::function<void()>)>;
  // `start` creates a thread running its argument (replaceable so that tests can make it fail).
  explicit Workers(std::size_t max, Starter start = [](std::function<void()> run) { return std::thread(std::move(run)); });
  ~Workers() { stop(); }
  Workers(const Workers&) = delete;
  Workers& operator=(const Workers&) = delete;

  // All or nothing: either `job` will run, or submit throws (no thread exists and none could be
  // started) and `job` is dropped, so the caller may free what the job refers to.
  void submit(std::function<void()> job);
  // Runs the queued jobs, then joins the threads.
  void stop();

 private:
  void work();

  std::size_t max_;
  Starter start_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> jobs_;
  std::vector<std::thread> threads_;
  std::size_t idle_ = 0;
  bool done_ = false;
};

}  // namespace logclf::server
