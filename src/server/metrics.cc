#include "server/metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iterator>

namespace logclf::server {

namespace {

constexpr auto kRelaxed = std::memory_order_relaxed;

// A label value with the escapes of the text format (backslash, quote, line feed).
std::string escape(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

Metrics::Metrics(std::vector<std::string> paths, const std::vector<std::string>& labels)
    : paths_(std::move(paths)),
      series_(std::make_unique<PathSeries[]>(paths_.size())),
      labels_(std::make_unique<std::string[]>(kMaxLabels)),
      lines_(std::make_unique<Counter[]>(kMaxLabels + 1)) {
  add_labels(labels);
}

void Metrics::add_labels(const std::vector<std::string>& labels) {
  std::lock_guard lock(labels_mutex_);
  std::size_t count = label_count_.load(std::memory_order_relaxed);
  for (const std::string& label : labels) {
    if (count == kMaxLabels) break;
    if (std::find(labels_.get(), labels_.get() + count, label) != labels_.get() + count) continue;
    labels_[count++] = label;
    label_count_.store(count, std::memory_order_release);
  }
}

std::size_t Metrics::method_index(std::string_view method) {
  const auto it = std::find(kMethods.begin(), kMethods.end() - 1, method);
  return static_cast<std::size_t>(it - kMethods.begin());
}

std::size_t Metrics::status_index(int status) {
  const auto it = std::find(kStatuses.begin(), kStatuses.end() - 1, status);
  return static_cast<std::size_t>(it - kStatuses.begin());
}

void Metrics::observe_request(std::size_t path, std::string_view method, int status, double seconds, bool failed) {
  PathSeries& s = series_[std::min(path, paths_.size() - 1)];
  s.requests[method_index(method)][status_index(status)].fetch_add(1, kRelaxed);
  const auto bucket = std::lower_bound(kBuckets.begin(), kBuckets.end(), seconds) - kBuckets.begin();
  s.buckets[static_cast<std::size_t>(bucket)].fetch_add(1, kRelaxed);
  s.nanoseconds.fetch_add(static_cast<std::uint64_t>(std::llround(std::max(seconds, 0.0) * 1e9)), kRelaxed);
  s.count.fetch_add(1, kRelaxed);
  if (failed || status >= 400) s.errors.fetch_add(1, kRelaxed);
}

void Metrics::count_line(std::string_view label, Stage stage) {
  const std::size_t count = label_count_.load(std::memory_order_acquire);
  const std::size_t slot = static_cast<std::size_t>(std::find(labels_.get(), labels_.get() + count, label) - labels_.get());
  lines_[slot == count ? kMaxLabels : slot].fetch_add(1, kRelaxed);
  stages_[static_cast<std::size_t>(stage)].fetch_add(1, kRelaxed);
}

std::string Metrics::text() const {
  std::string out;
  auto it = std::back_inserter(out);
  out += "# HELP logclf_http_requests_total HTTP requests answered, by route, method and status.\n"
         "# TYPE logclf_http_requests_total counter\n";
  for (std::size_t p = 0; p < paths_.size(); ++p) {
    const std::string path = escape(paths_[p]);
    for (std::size_t m = 0; m < kMethods.size(); ++m) {
      for (std::size_t k = 0; k < kStatuses.size(); ++k) {
        const std::uint64_t n = series_[p].requests[m][k].load(kRelaxed);
        if (n == 0) continue;
        const std::string status = kStatuses[k] == 0 ? "other" : std::to_string(kStatuses[k]);
        fmt::format_to(it, "logclf_http_requests_total{{path=\"{}\",method=\"{}\",status=\"{}\"}} {}\n", path,
                       kMethods[m], status, n);
      }
    }
  }
  out += "# HELP logclf_http_request_duration_seconds Time from a request's headers to the end of its response.\n"
         "# TYPE logclf_http_request_duration_seconds histogram\n";
  for (std::size_t p = 0; p < paths_.size(); ++p) {
    const PathSeries& s = series_[p];
    const std::uint64_t count = s.count.load(kRelaxed);
    if (count == 0) continue;
    const std::string path = escape(paths_[p]);
    // Buckets are read one by one while requests go on, so the cumulative counts are made consistent
    // with the total printed (Prometheus requires +Inf == _count).
    std::uint64_t cumulative = 0;
    for (std::size_t b = 0; b < kBuckets.size(); ++b) {
      cumulative = std::min(count, cumulative + s.buckets[b].load(kRelaxed));
      fmt::format_to(it, "logclf_http_request_duration_seconds_bucket{{path=\"{}\",le=\"{}\"}} {}\n", path,
                     kBuckets[b], cumulative);
    }
    fmt::format_to(it, "logclf_http_request_duration_seconds_bucket{{path=\"{}\",le=\"+Inf\"}} {}\n", path, count);
    fmt::format_to(it, "logclf_http_request_duration_seconds_sum{{path=\"{}\"}} {}\n", path,
                   static_cast<double>(s.nanoseconds.load(kRelaxed)) / 1e9);
    fmt::format_to(it, "logclf_http_request_duration_seconds_count{{path=\"{}\"}} {}\n", path, count);
  }
  out += "# HELP logclf_http_errors_total Requests answered with a status of 400 or more, or whose response was "
         "cut short.\n"
         "# TYPE logclf_http_errors_total counter\n";
  for (std::size_t p = 0; p < paths_.size(); ++p) {
    const std::uint64_t n = series_[p].errors.load(kRelaxed);
    if (n > 0) fmt::format_to(it, "logclf_http_errors_total{{path=\"{}\"}} {}\n", escape(paths_[p]), n);
  }
  out += "# HELP logclf_http_requests_in_flight Requests whose headers are read and whose response is not complete.\n"
         "# TYPE logclf_http_requests_in_flight gauge\n";
  fmt::format_to(it, "logclf_http_requests_in_flight {}\n", in_flight_.load(kRelaxed));
  out += "# HELP logclf_lines_total Log lines classified, by predicted label.\n"
         "# TYPE logclf_lines_total counter\n";
  // Sorted by label, as a model's labels are, whatever order reloads added them in.
  const std::size_t count = label_count_.load(std::memory_order_acquire);
  std::vector<std::size_t> order(count);
  for (std::size_t l = 0; l < count; ++l) order[l] = l;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return labels_[a] < labels_[b]; });
  for (const std::size_t l : order)
    fmt::format_to(it, "logclf_lines_total{{label=\"{}\"}} {}\n", escape(labels_[l]), lines_[l].load(kRelaxed));
  if (const std::uint64_t other = lines_[kMaxLabels].load(kRelaxed); other > 0)
    fmt::format_to(it, "logclf_lines_total{{label=\"other\"}} {}\n", other);
  out += "# HELP logclf_lines_by_stage_total Log lines classified, by the pipeline stage that decided them.\n"
         "# TYPE logclf_lines_by_stage_total counter\n";
  for (const Stage stage : {Stage::rule, Stage::model, Stage::uncertain})
    fmt::format_to(it, "logclf_lines_by_stage_total{{stage=\"{}\"}} {}\n", to_string(stage),
                   stages_[static_cast<std::size_t>(stage)].load(kRelaxed));
  return out;
}

void append_cache_metrics(std::string& out, const MessageCache& cache) {
  const CacheStats stats = cache.stats();
  auto it = std::back_inserter(out);
  fmt::format_to(it,
                 "# HELP logclf_cache_hits_total Lines answered from the message cache.\n"
                 "# TYPE logclf_cache_hits_total counter\n"
                 "logclf_cache_hits_total{{mode=\"{0}\"}} {1}\n"
                 "# HELP logclf_cache_misses_total Lines looked up in the message cache and not found there.\n"
                 "# TYPE logclf_cache_misses_total counter\n"
                 "logclf_cache_misses_total{{mode=\"{0}\"}} {2}\n"
                 "# HELP logclf_cache_entries Results the message cache holds.\n"
                 "# TYPE logclf_cache_entries gauge\n"
                 "logclf_cache_entries {3}\n"
                 "# HELP logclf_cache_capacity Results the message cache can hold.\n"
                 "# TYPE logclf_cache_capacity gauge\n"
                 "logclf_cache_capacity {4}\n",
                 to_string(cache.mode()), stats.hits, stats.lookups > stats.hits ? stats.lookups - stats.hits : 0, stats.entries,
                 cache.capacity());
}

}  // namespace logclf::server
