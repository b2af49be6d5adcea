// The streaming pipeline: one thread reads and parses records into batches, worker threads classify and
// format whole batches, and the calling thread writes them out in input order. A fixed set of batches circulates
// between the stages (reused, so their strings keep their capacity), which makes a fast reader wait for slow
// workers. Memory is bounded by bytes as well as by records: a batch ends at batch_bytes of record text, the
// reader starts no batch while kInFlightBatches batches' worth of bytes wait for the workers or the writer,
// and a record string that grew past kKeepCapacity is released once written, so that a few long lines do not
// pin their size in every slot they passed through.
#include "logclf/stream.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace logclf {

namespace {

using Clock = std::chrono::steady_clock;

// Bytes in flight at most (plus one batch being read): enough to keep every worker busy.
constexpr std::size_t kInFlightBatches = 4;
// Record strings keep their capacity from batch to batch up to this size; longer ones are freed.
constexpr std::size_t kKeepCapacity = std::size_t{64} << 10;

// The bytes a record holds: its strings are what grows with the input.
std::size_t record_bytes(const Record& r) {
  std::size_t n = r.message.size() + r.source.size() + r.label.size() + r.raw.size() + r.error.size();
  for (const std::string& f : r.fields) n += f.size();
  return n;
}

void release_if_large(std::string& s) {
  if (s.capacity() > kKeepCapacity) std::string().swap(s);
}

void release_if_large(Record& r) {
  release_if_large(r.message);
  release_if_large(r.source);
  release_if_large(r.label);
  release_if_large(r.raw);
  release_if_large(r.error);
  for (std::string& f : r.fields) release_if_large(f);
}

struct Batch {
  std::uint64_t sequence = 0;
  std::size_t size = 0;
  std::size_t bad = 0;            // records with an error
  std::size_t bytes = 0;          // record_bytes() of its records
  std::uint64_t input_bytes = 0;  // the reader's position after the batch
  std::vector<Record> records;
  std::vector<Prediction> predictions;
  std::string text;  // the records formatted for the output
};

class Pipeline {
 public:
  Pipeline(const Classifier& classifier, RecordReader& input, RecordWriter& output, MessageCache* cache,
           const StreamOptions& options)
      : classifier_(classifier), input_(input), output_(output), cache_(cache), options_(options) {
    // An encoder that batches (E5) uses every core within one batch; a per-line one (lexical) is run by a
    // worker per core over larger batches.
    const bool per_line = !classifier.encoder_batches();
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    workers_ = options.workers > 0 ? static_cast<std::size_t>(options.workers) : (per_line ? cores : 1);
    batch_lines_ = options.batch_lines > 0 ? options.batch_lines : (per_line ? 1024 : 256);
    batch_bytes_ = options.batch_bytes > 0 ? options.batch_bytes : kDefaultBatchBytes;
    // Enough batches for every worker to hold one while the reader fills and the writer drains others.
    const std::size_t batches = 2 * workers_ + 2;
    batches_.resize(batches);
    for (Batch& b : batches_) {
      b.records.resize(batch_lines_);
      free_.push_back(&b);
    }
  }

  StreamStats run() {
    const auto start = Clock::now();
    input_.stop_when(&halt_);
    std::vector<std::thread> threads;
    threads.emplace_back([this] { guarded([this] { read(); }); });
    for (std::size_t w = 0; w < workers_; ++w) threads.emplace_back([this] { guarded([this] { work(); }); });
    guarded([this] { write(); });
    for (std::thread& t : threads) t.join();
    input_.stop_when(nullptr);
    if (error_) std::rethrow_exception(error_);
    output_.commit();
    stats_.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    finish_stats();
    return stats_;
  }

 private:
  // Runs a stage; its first exception stops every stage and is rethrown by run().
  template <typename F>
  void guarded(F&& stage) {
    try {
      stage();
    } catch (...) {
      std::lock_guard lock(mutex_);
      if (!error_) error_ = std::current_exception();
      failed_ = true;
      halt_ = true;
      changed_.notify_all();
    }
  }

  void read() {
    std::uint64_t sequence = 0;
    for (bool more = true; more;) {
      Batch* batch;
      {
        std::unique_lock lock(mutex_);
        // With nothing in flight a batch may always start, so one record longer than the budget still passes.
        changed_.wait(lock, [&] {
          return failed_ || (!free_.empty() && (bytes_in_flight_ == 0 || bytes_in_flight_ < kInFlightBatches * batch_bytes_));
        });
        if (failed_) return;
        batch = free_.back();
        free_.pop_back();
      }
      std::size_t n = 0, bad = 0, bytes = 0;
      // A batch ends when full (by records or bytes), at the end of input, or when a pipe has nothing more
      // for now: what was read is classified and written before waiting for the next line.
      while (n < batch_lines_ && bytes < batch_bytes_) {
        if (halt_.load(std::memory_order_relaxed) || !(more = input_.next(batch->records[n]))) {
          more = false;
          break;
        }
        if (const std::string& error = batch->records[n].error; !error.empty()) {
          if (options_.on_error == OnError::fail) throw Error(error);
          ++bad;
        }
        bytes += record_bytes(batch->records[n]);
        ++n;
        if (input_.caught_up()) break;
      }
      std::lock_guard lock(mutex_);
      if (n == 0) {
        free_.push_back(batch);
      } else {
        batch->size = n;
        batch->bad = bad;
        batch->bytes = bytes;
        bytes_in_flight_ += bytes;
        batch->sequence = sequence++;
        batch->input_bytes = input_.bytes_read();
        work_.push_back(batch);
      }
      if (!more) {
        input_done_ = true;
        total_batches_ = sequence;
      }
      changed_.notify_all();
    }
  }

  void work() {
    std::vector<LogLine> lines;
    for (;;) {
      Batch* batch;
      {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return failed_ || !work_.empty() || input_done_; });
        if (failed_ || work_.empty()) return;
        batch = work_.front();
        work_.pop_front();
      }
      const std::vector<Record>& records = batch->records;
      lines.clear();
      for (std::size_t i = 0; i < batch->size; ++i)
        if (records[i].error.empty()) lines.push_back({records[i].message, records[i].source});
      batch->predictions = cache_ != nullptr ? classifier_.classify_batch(lines, *cache_) : classifier_.classify_batch(lines);
      if (batch->bad > 0) spread_predictions(*batch);
      batch->text.clear();
      for (std::size_t i = 0; i < batch->size; ++i)
        if (records[i].error.empty() || options_.on_error == OnError::pass)
          output_.format(records[i], batch->predictions[i], batch->text);
      std::lock_guard lock(mutex_);
      done_.emplace(batch->sequence, batch);
      changed_.notify_all();
    }
  }

  // Moves the predictions of a batch's good records to their records' places; bad ones get none.
  static void spread_predictions(Batch& batch) {
    std::vector<Prediction>& p = batch.predictions;
    std::size_t k = p.size();
    p.resize(batch.size);
    for (std::size_t i = batch.size; i-- > 0;) {
      if (batch.records[i].error.empty()) {
        if (--k != i) p[i] = std::move(p[k]);
      } else {
        p[i] = Prediction{};
      }
    }
  }

  void write() {
    for (std::uint64_t next = 0;;) {
      if (options_.stop != nullptr && options_.stop->load()) halt_ = true;
      Batch* batch;
      {
        std::unique_lock lock(mutex_);
        // Wakes every 100 ms to pass on a stop request, which a reader waiting on a pipe cannot see itself.
        while (!failed_ && !done_.contains(next) && !(input_done_ && next == total_batches_)) {
          changed_.wait_for(lock, std::chrono::milliseconds(100));
          if (options_.stop != nullptr && options_.stop->load()) halt_ = true;
        }
        if (failed_ || !done_.contains(next)) return;
        batch = done_.extract(next).mapped();
      }
      output_.write_formatted(batch->text);
      output_.flush();
      for (std::size_t i = 0; i < batch->size; ++i) {
        const Record& record = batch->records[i];
        if (record.error.empty()) {
          count(batch->predictions[i]);
        } else if (stats_.first_errors.size() < StreamStats::kFirstErrors) {
          stats_.first_errors.push_back(record.error);
        }
      }
      stats_.lines += batch->size - batch->bad;
      stats_.bad_records += batch->bad;
      stats_.input_bytes = batch->input_bytes;
      if (options_.on_batch) {
        finish_stats();
        options_.on_batch(stats_);
      }
      for (std::size_t i = 0; i < batch->size; ++i) release_if_large(batch->records[i]);
      if (batch->text.capacity() > 2 * batch_bytes_) std::string().swap(batch->text);
      std::lock_guard lock(mutex_);
      bytes_in_flight_ -= batch->bytes;
      free_.push_back(batch);
      ++next;
      changed_.notify_all();
    }
  }

  void count(const Prediction& p) {
    ++stats_.per_stage[static_cast<int>(p.stage)];
    // A handful of labels: a short list searched from the last one found beats a map per line.
    if (last_label_ < labels_.size() && labels_[last_label_].first == p.label) {
      ++labels_[last_label_].second;
      return;
    }
    for (std::size_t k = 0; k < labels_.size(); ++k) {
      if (labels_[k].first == p.label) {
        ++labels_[k].second;
        last_label_ = k;
        return;
      }
    }
    last_label_ = labels_.size();
    labels_.emplace_back(p.label, 1);
  }

  void finish_stats() {
    for (const auto& [label, n] : labels_) stats_.per_label[label] = n;
    if (cache_ != nullptr) stats_.cache = cache_->stats();
  }

  const Classifier& classifier_;
  RecordReader& input_;
  RecordWriter& output_;
  MessageCache* cache_;
  const StreamOptions& options_;
  std::size_t workers_ = 1, batch_lines_ = 1024, batch_bytes_ = kDefaultBatchBytes;

  std::vector<Batch> batches_;
  std::mutex mutex_;
  std::condition_variable changed_;  // any change of the state below
  std::vector<Batch*> free_;
  std::deque<Batch*> work_;
  std::map<std::uint64_t, Batch*> done_;
  bool input_done_ = false;
  std::uint64_t total_batches_ = 0;
  std::size_t bytes_in_flight_ = 0;  // of batches read and not yet written
  bool failed_ = false;
  std::exception_ptr error_;
  std::atomic<bool> halt_{false};  // the reader stops reading

  StreamStats stats_;
  std::vector<std::pair<std::string, std::uint64_t>> labels_;
  std::size_t last_label_ = 0;
};

}  // namespace

StreamStats classify_stream(const Classifier& classifier, RecordReader& input, RecordWriter& output,
                            MessageCache* cache, const StreamOptions& options) {
  if (cache != nullptr && cache->mode() == CacheMode::off) cache = nullptr;
  Pipeline pipeline(classifier, input, output, cache, options);
  return pipeline.run();
}

}  // namespace logclf
