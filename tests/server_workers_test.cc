// The server's worker pool: a job is either run or refused, never refused and then run (the caller frees
// what a refused job refers to, e.g. its connection).
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <stdexcept>
#include <system_error>

#include "server/workers.h"

namespace logclf::server {
namespace {

// Starts threads while `allowed` is positive (counting down), then fails as std::thread does.
Workers::Starter limited_starter(std::atomic<int>& allowed) {
  return [&allowed](std::function<void()> run) {
    if (allowed.fetch_sub(1) <= 0) throw std::system_error(std::make_error_code(std::errc::resource_unavailable_try_again));
    return std::thread(std::move(run));
  };
}

TEST(Workers, RunsEveryJobSubmitted) {
  std::atomic<int> allowed{100};
  std::atomic<int> ran{0};
  {
    Workers workers(3, limited_starter(allowed));
    for (int i = 0; i < 50; ++i) workers.submit([&] { ++ran; });
    workers.stop();
  }
  EXPECT_EQ(ran, 50);
}

TEST(Workers, AJobWhoseThreadCannotStartWaitsForARunningOne) {
  std::atomic<int> allowed{1};
  Workers workers(4, limited_starter(allowed));
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> first_ran{false}, second_ran{false};
  workers.submit([&] {
    released.wait();
    first_ran = true;
  });
  // The one thread is busy, so a second is wanted and cannot start: the job is accepted all the same.
  EXPECT_NO_THROW(workers.submit([&] { second_ran = true; }));
  release.set_value();
  workers.stop();
  EXPECT_TRUE(first_ran);
  EXPECT_TRUE(second_ran);
}

TEST(Workers, ARefusedJobNeverRuns) {
  std::atomic<int> allowed{0};
  Workers workers(4, limited_starter(allowed));
  std::atomic<bool> refused_ran{false}, later_ran{false};
  EXPECT_THROW(workers.submit([&] { refused_ran = true; }), std::system_error);
  allowed = 1;  // threads can start again: the refused job must not come back with them
  workers.submit([&] { later_ran = true; });
  workers.stop();
  EXPECT_TRUE(later_ran);
  EXPECT_FALSE(refused_ran);
}

}  // namespace
}  // namespace logclf::server
