// Counters of the HTTP service in the Prometheus text format. Every series is a relaxed atomic in a table
// sized at start-up (routes, methods, statuses are known then; labels are added when a model is loaded, up
// to kMaxLabels), so recording is a few uncontended increments with no lock or allocation on the request
// path, and the label sets are bounded whatever paths clients ask for.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "logclf/cache.h"
#include "logclf/types.h"

namespace logclf::server {

class Metrics {
 public:
  // `paths`: the route labels (requests to unknown paths are recorded under the last one);
  // `labels`: every label a prediction can carry.
  Metrics(std::vector<std::string> paths, const std::vector<std::string>& labels);

  // Adds the labels not counted yet (a reloaded model's), up to kMaxLabels in all; lines with a label past
  // that are counted as "other". Safe while other threads record.
  void add_labels(const std::vector<std::string>& labels);
  static constexpr std::size_t kMaxLabels = 1024;

  // A request between its headers and the end of its response: counted in
  // logclf_http_requests_in_flight while the object lives.
  class InFlight {
   public:
    explicit InFlight(Metrics& metrics) : gauge_(metrics.in_flight_) { gauge_.fetch_add(1, std::memory_order_relaxed); }
    ~InFlight() { gauge_.fetch_sub(1, std::memory_order_relaxed); }
    InFlight(const InFlight&) = delete;
    InFlight& operator=(const InFlight&) = delete;

   private:
    std::atomic<std::int64_t>& gauge_;
  };

  // One answered request. `status` outside the statuses the service can send is recorded as "other".
  // `failed`: the response could not be completed (a stream cut short); statuses >= 400 count as errors too.
  void observe_request(std::size_t path, std::string_view method, int status, double seconds, bool failed = false);
  // One classified line.
  void count_line(std::string_view label, Stage stage);

  // The exposition text (text/plain; version=0.0.4).
  std::string text() const;

  static constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

 private:
  static constexpr std::array<std::string_view, 8> kMethods = {"GET",    "HEAD",    "POST",  "PUT",
                                                                "DELETE", "PATCH", "OPTIONS", "other"};
  static constexpr std::array<int, 23> kStatuses = {200, 204, 206, 304, 400, 401, 403, 404, 405, 408, 411, 413,
                                                    414, 415, 416, 417, 422, 429, 431, 500, 501, 503, 0};
  // Upper bounds of the latency buckets, in seconds (+Inf is implicit).
  static constexpr std::array<double, 16> kBuckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                      0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,     10};
  using Counter = std::atomic<std::uint64_t>;
  struct PathSeries {
    std::array<std::array<Counter, kStatuses.size()>, kMethods.size()> requests{};
    std::array<Counter, kBuckets.size() + 1> buckets{};  // not cumulative; the last one is +Inf
    Counter nanoseconds{0};
    Counter count{0};
    Counter errors{0};
  };

  static std::size_t method_index(std::string_view method);
  static std::size_t status_index(int status);

  std::vector<std::string> paths_;
  std::unique_ptr<PathSeries[]> series_;
  // labels_[0, label_count_) are set and never change again; add_labels() (under labels_mutex_) writes the
  // next ones before publishing the new count.
  std::unique_ptr<std::string[]> labels_;
  std::atomic<std::size_t> label_count_{0};
  std::mutex labels_mutex_;
  std::unique_ptr<Counter[]> lines_;  // per label slot, then one for a label not in labels_ ("other")
  std::array<Counter, 3> stages_{};
  std::atomic<std::int64_t> in_flight_{0};
};

// The message cache's series: logclf_cache_hits_total, logclf_cache_misses_total, logclf_cache_entries and
// logclf_cache_capacity.
void append_cache_metrics(std::string& out, const MessageCache& cache);

}  // namespace logclf::server
