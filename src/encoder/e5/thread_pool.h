// A persistent pool of threads for the encoder's kernels: the caller and size() - 1 workers take tasks of
// one parallel_for from a shared counter, so a core slowed by other processes simply takes fewer tasks, and
// a worker that has not woken up by the time the caller has taken the last task is not waited for.
// Hand-written rather than OpenMP so that each model owns its thread count and no global runtime state is
// involved (the server runs models and request threads side by side).
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>
#include <type_traits>
#include <vector>

namespace logclf::encoder::e5 {

class ThreadPool {
 public:
  // `threads` counts the calling thread: 1 runs everything on the caller.
  explicit ThreadPool(int threads) {
    const int workers = threads > 1 ? threads - 1 : 0;
    threads_.reserve(static_cast<std::size_t>(workers));
    for (int w = 1; w <= workers; ++w) threads_.emplace_back([this, w] { work(w); });
  }
  ~ThreadPool() {
    stop_.store(true, std::memory_order_release);
    generation_.fetch_add(1, std::memory_order_release);
    generation_.notify_all();
    for (auto& t : threads_) t.join();
  }
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(threads_.size()) + 1; }

  // Runs fn(task, thread) for every task in [0, tasks), thread in [0, size()) naming the thread that runs it
  // (for per-thread scratch memory); returns when all tasks are done. fn must not throw. Not reentrant: one
  // parallel_for at a time per pool.
  template <class F>
  void parallel_for(int tasks, F&& fn) {
    if (tasks <= 0) return;
    if (threads_.empty() || tasks == 1) {
      for (int t = 0; t < tasks; ++t) fn(t, 0);
      return;
    }
    using Fn = std::remove_reference_t<F>;
    job_fn_ = const_cast<void*>(static_cast<const void*>(&fn));
    job_call_ = [](void* f, int task, int thread) { (*static_cast<Fn*>(f))(task, thread); };
    job_tasks_ = tasks;
    next_task_.store(0, std::memory_order_relaxed);
    state_.store(0, std::memory_order_release);  // open, nobody joined
    generation_.fetch_add(1, std::memory_order_release);
    generation_.notify_all();
    take_tasks(0);
    // Every task is taken: close the job to late workers, then wait for the tasks still running.
    state_.fetch_or(kClosed, std::memory_order_acq_rel);
    for (int spins = 0; (state_.load(std::memory_order_acquire) & ~kClosed) != 0; ++spins) relax(spins);
  }

 private:
  static constexpr int kClosed = 1 << 30;

  static void pause() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }
  // Spins briefly (a running task ends within microseconds), then yields the core.
  static void relax(int spins) {
    if (spins < 4096)
      pause();
    else
      std::this_thread::yield();
  }

  void take_tasks(int thread) {
    for (int t = next_task_.fetch_add(1, std::memory_order_relaxed); t < job_tasks_;
         t = next_task_.fetch_add(1, std::memory_order_relaxed))
      job_call_(job_fn_, t, thread);
  }

  // Joins the current job unless it is closed; the job's fields are read only after joining.
  bool join() {
    int s = state_.load(std::memory_order_acquire);
    while ((s & kClosed) == 0)
      if (state_.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel, std::memory_order_acquire)) return true;
    return false;
  }

  void work(int thread) {
    std::uint32_t seen = 0;
    for (;;) {
      // Spin a little before sleeping: the next job of a forward pass usually comes right away.
      std::uint32_t now = generation_.load(std::memory_order_acquire);
      for (int spins = 0; now == seen && spins < 20000; ++spins) {
        pause();
        now = generation_.load(std::memory_order_acquire);
      }
      while (now == seen) {
        generation_.wait(seen, std::memory_order_acquire);
        now = generation_.load(std::memory_order_acquire);
      }
      seen = now;
      if (stop_.load(std::memory_order_acquire)) return;
      if (join()) {
        take_tasks(thread);
        state_.fetch_sub(1, std::memory_order_release);
      }
    }
  }

  std::vector<std::thread> threads_;
  std::atomic<std::uint32_t> generation_{0};
  std::atomic<int> state_{kClosed};  // workers in the current job, plus kClosed once it takes no more
  std::atomic<int> next_task_{0};
  std::atomic<bool> stop_{false};
  // The current job, published to workers through state_.
  void* job_fn_ = nullptr;
  void (*job_call_)(void*, int, int) = nullptr;
  int job_tasks_ = 0;
};

}  // namespace logclf::encoder::e5
