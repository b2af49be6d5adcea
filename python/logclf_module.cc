// logclf._logclf: the native half of the Python package, over the public C++ API (include/logclf/) only.
// The Python half (python/logclf/__init__.py) adds data conversion (pandas, lists of dicts), pickling and
// the scikit-learn estimator.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "logclf/cache.h"
#include "logclf/classifier.h"
#include "logclf/encoder.h"
#include "logclf/evaluation.h"
#include "logclf/io.h"
#include "logclf/rules.h"
#include "logclf/train.h"
#include "logclf/types.h"

namespace py = pybind11;
using namespace logclf;

namespace {

Precision precision_of(const std::string& name) {
  const auto p = parse_precision(name);
  if (!p) throw Error("precision must be fp32, int8 or auto, not '" + name + "'");
  return *p;
}

EncoderOptions encoder_options(const std::string& kind, const std::optional<std::string>& dir,
                               const std::string& precision, int threads) {
  if (threads < 0) throw Error("threads must be 0 (all cores) or more");
  EncoderOptions o;
  o.kind = kind;
  o.dir = dir.value_or("");
  o.precision = precision_of(precision);
  o.threads = threads;
  return o;
}

CacheMode cache_mode_of(const std::string& name) {
  const auto mode = parse_cache_mode(name);
  if (!mode) throw Error("cache must be off, exact or template, not '" + name + "'");
  return *mode;
}

// A Python str as UTF-8 without a copy: the view lives as long as the str (which the caller holds).
std::string_view utf8_view(py::handle item, const char* what, std::size_t index) {
  if (!PyUnicode_Check(item.ptr()))
    throw Error(std::string(what) + "[" + std::to_string(index) + "] is " + std::string(py::str(py::type::of(item).attr("__name__"))) +
                ", not str");
  Py_ssize_t size = 0;
  const char* data = PyUnicode_AsUTF8AndSize(item.ptr(), &size);
  if (data == nullptr) throw py::error_already_set();
  return {data, static_cast<std::size_t>(size)};
}

// One prediction as Python sees it: the probabilities become a dict only when asked for.
struct Result {
  std::string label;
  Stage stage = Stage::uncertain;
  std::string rule;
  double confidence = 0.0;
  std::vector<float> probabilities;
  std::shared_ptr<const std::vector<std::string>> labels;

  py::dict probability_dict() const {
    py::dict d;
    for (std::size_t i = 0; i < probabilities.size() && i < labels->size(); ++i)
      d[py::str((*labels)[i])] = static_cast<double>(probabilities[i]);
    return d;
  }
};

// The Classifier as Python holds it: an immutable classifier swapped whole when the threshold changes (so a
// batch running on other threads keeps the one it started with), and the message cache of classify_batch.
class PyClassifier {
 public:
  explicit PyClassifier(Classifier c)
      : classifier_(std::make_shared<const Classifier>(std::move(c))),
        labels_(std::make_shared<const std::vector<std::string>>(classifier_->labels())) {}

  std::shared_ptr<const Classifier> get() const {
    std::lock_guard lock(mutex_);
    return classifier_;
  }
  double threshold() const { return get()->threshold(); }
  void set_threshold(double t) {
    Classifier copy = *get();
    copy.set_threshold(t);
    std::lock_guard lock(mutex_);
    classifier_ = std::make_shared<const Classifier>(std::move(copy));
  }
  const std::shared_ptr<const std::vector<std::string>>& labels() const { return labels_; }

  Result to_result(Prediction&& p) const {
    return Result{std::move(p.label), p.stage, std::move(p.rule), p.confidence, std::move(p.probabilities), labels_};
  }

  // The cache of a mode, made on first use; kept across calls like the CLI's for one run.
  std::shared_ptr<MessageCache> cache(CacheMode mode) {
    if (mode == CacheMode::off) return nullptr;
    std::lock_guard lock(mutex_);
    auto& slot = mode == CacheMode::exact ? exact_ : template_;
    if (!slot) slot = std::make_shared<MessageCache>(CacheOptions{mode});
    return slot;
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const Classifier> classifier_;
  std::shared_ptr<const std::vector<std::string>> labels_;
  std::shared_ptr<MessageCache> exact_, template_;
};

// Classifies `lines` on `workers` threads in chunks, as `logclf classify` does (0: one per core, or one when
// the encoder batches: E5's forward pass uses every core itself). Called without the GIL.
std::vector<Prediction> classify_parallel(const Classifier& c, std::span<const LogLine> lines, MessageCache* cache,
                                          bool with_distribution, int workers) {
  const bool per_line = !c.encoder_batches();
  const std::size_t chunk = per_line ? 1024 : 256;
  if (workers <= 0) workers = per_line ? static_cast<int>(std::max(1u, std::thread::hardware_concurrency())) : 1;
  const std::size_t chunks = (lines.size() + chunk - 1) / chunk;
  workers = static_cast<int>(std::min<std::size_t>(static_cast<std::size_t>(workers), chunks));
  std::vector<Prediction> out(lines.size());
  std::atomic<std::size_t> next{0};
  std::exception_ptr failure;
  std::mutex failure_mutex;
  auto work = [&] {
    try {
      for (std::size_t k; (k = next.fetch_add(1)) < chunks;) {
        const auto part = lines.subspan(k * chunk, std::min(chunk, lines.size() - k * chunk));
        std::vector<Prediction> got =
            cache ? c.classify_batch(part, *cache, with_distribution) : c.classify_batch(part, with_distribution);
        std::move(got.begin(), got.end(), out.begin() + static_cast<std::ptrdiff_t>(k * chunk));
      }
    } catch (...) {
      std::lock_guard lock(failure_mutex);
      if (!failure) failure = std::current_exception();
      next = chunks;
    }
  };
  std::vector<std::thread> threads;
  for (int i = 1; i < workers; ++i) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();
  if (failure) std::rethrow_exception(failure);
  return out;
}

py::list classify_batch(PyClassifier& self, const py::iterable& messages_in,
                        const std::optional<py::iterable>& sources_in, bool probabilities,
                        const std::string& cache_name, int workers) {
  // As lists (a pandas Series or a generator iterates its values): they keep every item referenced while the
  // GIL is released, so the UTF-8 seen below stays valid even if the caller's containers change meanwhile.
  const py::list messages(messages_in);
  const std::size_t n = messages.size();
  std::optional<py::list> sources;
  if (sources_in) sources.emplace(*sources_in);
  if (sources && sources->size() != n)
    throw Error("sources has " + std::to_string(sources->size()) + " items, messages " + std::to_string(n));
  if (workers < 0) throw Error("workers must be 0 (one per core) or more");
  const CacheMode mode = cache_mode_of(cache_name);
  std::vector<LogLine> lines(n);
  for (std::size_t i = 0; i < n; ++i) {
    lines[i].message = utf8_view(messages[i], "messages", i);
    if (sources && !(*sources)[i].is_none()) lines[i].source = utf8_view((*sources)[i], "sources", i);
  }
  const auto classifier = self.get();
  const auto cache = self.cache(mode);
  std::vector<Prediction> predictions;
  {
    py::gil_scoped_release release;
    predictions = classify_parallel(*classifier, lines, cache.get(), probabilities, workers);
  }
  py::list out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = py::cast(self.to_result(std::move(predictions[i])));
  return out;
}

py::object parse_json(const std::string& text) { return py::module_::import("json").attr("loads")(text); }

py::object report_or_none(const std::optional<ClassificationReport>& r) {
  return r ? parse_json(r->json()) : py::object(py::none());
}

// The report of train() as a dict: what the CLI prints, by name.
py::dict train_report(const TrainResult& r, const TrainOptions& options, double seconds) {
  py::dict d;
  d["rows"] = r.rows;
  d["rows_excluded"] = r.rows_excluded;
  d["rows_rule_matched"] = r.rows_rule_matched;
  d["rows_train"] = r.rows_train;
  d["rows_test"] = r.rows_test;
  d["labels"] = r.classifier->labels();
  d["iterations"] = r.iterations;
  d["converged"] = r.converged;
  d["seconds"] = seconds;
  d["C"] = r.C;
  d["temperature"] = r.temperature;
  d["cv_folds"] = r.cv_folds;
  py::list candidates;
  for (const CvCandidate& c : r.candidates)
    candidates.append(py::dict(py::arg("C") = c.C, py::arg("log_loss") = c.log_loss,
                               py::arg("temperature") = c.temperature, py::arg("accuracy") = c.accuracy));
  d["candidates"] = candidates;
  d["selection_note"] = r.selection_note;
  py::list rules;
  for (const RuleReport& rr : r.rules)
    rules.append(py::dict(py::arg("name") = rr.name, py::arg("label") = rr.label, py::arg("matched") = rr.matched,
                          py::arg("correct") = rr.correct, py::arg("status") = rr.status, py::arg("kept") = rr.kept));
  d["rules"] = rules;
  d["mined_rules"] = r.mined ? py::object(py::str(r.mined->text())) : py::object(py::none());
  d["mined_rules_count"] = r.mined ? r.mined->size() : 0;
  d["mined_rows"] = r.mined_rows;
  d["threshold"] = options.threshold;
  d["held_out"] = report_or_none(r.held_out_pipeline);
  d["held_out_head"] = report_or_none(r.held_out);
  d["held_out_calibration"] =
      r.held_out_calibration ? parse_json(r.held_out_calibration->json()) : py::object(py::none());
  d["held_out_uncertain"] = r.held_out_uncertain;
  d["held_out_by_rule"] = r.held_out_by_rule;
  return d;
}

ReadOptions read_options(const std::string& path, const std::optional<std::string>& format,
                         const std::optional<std::vector<std::string>>& message_columns, const std::string& source_column,
                         const std::string& label_column, bool strict) {
  ReadOptions o;
  if (format) {
    const auto f = parse_format(*format);
    if (!f) throw Error("format must be csv, jsonl or lines, not '" + *format + "'");
    o.format = *f;
  } else {
    o.format = format_from_path(path, Format::csv);
  }
  o.strict_utf8 = strict;
  o.message_fields = message_columns ? *message_columns : default_message_fields(o.format);
  if (o.message_fields.empty()) throw Error("message_columns is empty");
  o.source_field = source_column;
  o.label_field = label_column;
  o.require_label = true;
  return o;
}

// Labelled rows from Python: a sequence of (message, source, label) tuples of str (source may be None).
std::vector<LabeledLine> labeled_rows(const py::sequence& rows) {
  std::vector<LabeledLine> out;
  out.reserve(py::len(rows));
  for (std::size_t i = 0; i < py::len(rows); ++i) {
    const py::sequence row = rows[i];
    LabeledLine line;
    line.message = std::string(utf8_view(row[0], "messages", i));
    if (!row[1].is_none()) line.source = std::string(utf8_view(row[1], "sources", i));
    line.label = std::string(utf8_view(row[2], "labels", i));
    if (line.label.empty()) throw Error("row " + std::to_string(i) + ": empty label");
    out.push_back(std::move(line));
  }
  if (out.empty()) throw Error("no rows to train on");
  return out;
}

// The labelled rows of `data`: a file's path (read without the GIL), or rows from Python.
std::vector<LabeledLine> labeled_data(const py::object& data, const std::optional<std::string>& format,
                                      const std::optional<std::vector<std::string>>& message_columns,
                                      const std::string& source_column, const std::string& label_column) {
  if (!py::isinstance<py::str>(data)) return labeled_rows(data.cast<py::sequence>());
  const std::string path = data.cast<std::string>();
  const ReadOptions ro = read_options(path, format, message_columns, source_column, label_column, false);
  py::gil_scoped_release release;
  return read_labeled(path, ro);
}

}  // namespace

PYBIND11_MODULE(_logclf, m) {
  m.doc() = "logclf's native module; use the logclf package.";
  m.attr("__version__") = std::string(version());
  // Every logclf::Error becomes logclf.Error, a ValueError carrying the C++ message.
  py::register_exception<Error>(m, "Error", PyExc_ValueError);

  py::class_<Result>(m, "Result", "One line's classification.")
      .def_readonly("label", &Result::label, "The label, or 'Uncertain' below the threshold.")
      .def_property_readonly(
          "stage", [](const Result& r) { return std::string(to_string(r.stage)); },
          "Which stage decided: 'rule', 'model' or 'uncertain'.")
      .def_property_readonly(
          "rule", [](const Result& r) { return r.rule.empty() ? py::object(py::none()) : py::object(py::str(r.rule)); },
          "The name of the deciding rule (stage 'rule'), else None.")
      .def_readonly("confidence", &Result::confidence, "The head's top probability; 1.0 when a rule decided.")
      .def_property_readonly("probabilities", &Result::probability_dict,
                             "The head's distribution as {label: probability}; empty when a rule decided (or "
                             "when classify_batch ran with probabilities=False).")
      .def("__repr__", [](const Result& r) {
        return "Result(label=" + std::string(py::repr(py::str(r.label))) + ", stage='" + std::string(to_string(r.stage)) +
               "', rule=" + (r.rule.empty() ? std::string("None") : std::string(py::repr(py::str(r.rule)))) +
               ", confidence=" + std::to_string(r.confidence) + ")";
      });

  py::class_<PyClassifier, std::shared_ptr<PyClassifier>>(m, "Classifier", R"(The hybrid log classifier: rules, then encoder + logistic-regression head, then the threshold.

Load one with Classifier.load() (the built-in model, or a bundle directory), or get one from logclf.train().
Thread-safe: any number of threads may classify at once.)")
      .def_static(
          "load",
          [](const std::optional<std::string>& path, const std::optional<std::string>& encoder_dir,
             const std::optional<std::string>& encoder, const std::string& precision, int threads) {
            const EncoderOptions o = encoder_options(encoder.value_or(""), encoder_dir, precision, threads);
            py::gil_scoped_release release;
            return std::make_shared<PyClassifier>(path ? Classifier::load(*path, o) : Classifier::load_default(o));
          },
          py::arg("path") = py::none(), py::arg("encoder_dir") = py::none(), py::kw_only(),
          py::arg("encoder") = py::none(), py::arg("precision") = "auto", py::arg("threads") = 0,
          R"(Loads a model bundle directory, or with path None the built-in model.

encoder: None accepts the model's own; 'lexical' or 'e5-small-v2' requires it (with path None,
'e5-small-v2' loads the built-in E5 model). encoder_dir: the E5 weights (default: $LOGCLF_E5_DIR, then
the Hugging Face cache). precision: 'fp32', 'int8' or 'auto' for E5's Linear layers and attention scores.
threads: of the E5 forward pass (0: all cores). Raises logclf.Error naming what is missing or bad.)")
      .def(
          "classify",
          [](PyClassifier& self, const std::string& message, const std::optional<std::string>& source) {
            const auto c = self.get();
            Prediction p;
            {
              py::gil_scoped_release release;
              p = c->classify(message, source.value_or(""));
            }
            return self.to_result(std::move(p));
          },
          py::arg("message"), py::arg("source") = py::none(),
          "Classifies one message (source: for rules with a source filter). Returns a Result.")
      .def("classify_batch", &classify_batch, py::arg("messages"), py::arg("sources") = py::none(), py::kw_only(),
           py::arg("probabilities") = true, py::arg("cache") = "exact", py::arg("workers") = 0,
           R"(Classifies a sequence of messages (str), in order; returns a list of Result.

sources: None, or one str (or None) per message. The GIL is released while classifying, on `workers`
threads (0: one per core, one for E5). cache: 'exact' (default, as the CLI: changes no result), 'template'
or 'off'; the cache lives with the classifier across calls. probabilities=False leaves
Result.probabilities empty, which is faster.)")
      .def_property_readonly("labels", [](const PyClassifier& self) { return *self.labels(); },
                             "The head's labels, in the order of its probabilities.")
      .def_property("threshold", &PyClassifier::threshold, &PyClassifier::set_threshold,
                    "Head probability below which a line is 'Uncertain' (0 to 1).")
      .def_property_readonly("encoder", [](const PyClassifier& self) { return std::string(self.get()->encoder_kind()); },
                             "The encoder: 'lexical' or 'e5-small-v2'.")
      .def_property_readonly("rules", [](const PyClassifier& self) { return self.get()->rules().text(); },
                             "The model's rules as the YAML of a rules file.")
      .def_property_readonly("metadata", [](const PyClassifier& self) { return parse_json(self.get()->metadata_json()); },
                             "The bundle's metadata (logclf-model.json) as a dict.")
      .def(
          "save",
          [](const PyClassifier& self, const std::string& path) {
            const auto c = self.get();
            py::gil_scoped_release release;
            c->save(path);
          },
          py::arg("path"), "Writes the model bundle to directory `path` (replacing one there once every file is written).");

  m.def(
      "_train",
      [](const py::object& data, const std::optional<std::string>& format,
         const std::optional<std::vector<std::string>>& message_columns, const std::string& source_column,
         const std::string& label_column, const std::string& data_name, double test_size, std::uint64_t seed,
         bool refit, bool all_rows, const std::optional<std::string>& rules, bool allow_new_labels,
         double min_rule_precision, bool keep_all_rules, std::size_t mine_rules, bool use_mined_rules,
         const std::vector<std::string>& exclude_sources, const std::optional<double>& C, int cv_folds,
         const std::string& calibration, int max_iter, const std::string& class_weight, double threshold,
         const std::string& encoder, const std::optional<std::string>& encoder_dir, const std::string& precision,
         int threads) {
        TrainOptions o;
        if (!(test_size >= 0.0 && test_size < 1.0)) throw Error("test_size must be at least 0 and below 1");
        if (!(threshold >= 0.0 && threshold <= 1.0)) throw Error("threshold must be between 0 and 1");
        if (C && !(*C > 0)) throw Error("C must be a positive number or 'auto'");
        if (cv_folds != 0 && (cv_folds < 2 || cv_folds > 20)) throw Error("cv_folds must be between 2 and 20");
        if (max_iter < 1) throw Error("max_iter must be positive");
        if (calibration != "temperature" && calibration != "none")
          throw Error("calibration must be 'temperature' or 'none', not '" + calibration + "'");
        if (class_weight != "balanced" && class_weight != "none")
          throw Error("class_weight must be 'balanced' or 'none', not '" + class_weight + "'");
        if (use_mined_rules && mine_rules == 0) throw Error("use_mined_rules needs mine_rules");
        o.test_size = test_size;
        o.seed = seed;
        o.refit = refit;
        o.all_rows = all_rows;
        if (rules) {
          o.rules = RuleSet::load(*rules);
          o.rules_given = true;
        }
        o.allow_new_labels = allow_new_labels;
        o.min_rule_precision = min_rule_precision;
        o.keep_all_rules = keep_all_rules;
        o.mine_rules = mine_rules;
        o.use_mined_rules = use_mined_rules;
        o.exclude_sources = exclude_sources;
        o.C = C;
        o.cv_folds = cv_folds;
        o.calibrate = calibration == "temperature";
        o.max_iter = max_iter;
        o.class_weight = class_weight == "none" ? ClassWeight::none : ClassWeight::balanced;
        o.threshold = threshold;
        o.encoder = encoder_options(encoder == kLexicalEncoder ? "" : encoder, encoder_dir, precision, threads);
        o.data_name = data_name;
        const std::vector<LabeledLine> rows =
            labeled_data(data, format, message_columns, source_column, label_column);
        TrainResult result;
        double seconds = 0;
        {
          py::gil_scoped_release release;
          const auto start = std::chrono::steady_clock::now();
          result = train(rows, o);
          seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        }
        py::dict report = train_report(result, o, seconds);
        return py::make_tuple(std::make_shared<PyClassifier>(std::move(*result.classifier)), report);
      },
      py::arg("data"), py::arg("format"), py::arg("message_columns"), py::arg("source_column"), py::arg("label_column"),
      py::arg("data_name"), py::arg("test_size"), py::arg("seed"), py::arg("refit"), py::arg("all_rows"),
      py::arg("rules"), py::arg("allow_new_labels"), py::arg("min_rule_precision"), py::arg("keep_all_rules"),
      py::arg("mine_rules"), py::arg("use_mined_rules"), py::arg("exclude_sources"), py::arg("C"), py::arg("cv_folds"),
      py::arg("calibration"), py::arg("max_iter"), py::arg("class_weight"), py::arg("threshold"), py::arg("encoder"),
      py::arg("encoder_dir"), py::arg("precision"), py::arg("threads"));

  m.def(
      "_evaluate",
      [](const std::shared_ptr<PyClassifier>& model, const py::object& data, const std::optional<std::string>& format,
         const std::optional<std::vector<std::string>>& message_columns, const std::string& source_column,
         const std::string& label_column, const std::optional<double>& threshold, const std::string& cache_name) {
        auto c = model->get();
        if (threshold) {
          auto copy = std::make_shared<Classifier>(*c);
          copy->set_threshold(*threshold);
          c = copy;
        }
        const CacheMode mode = cache_mode_of(cache_name);
        const std::vector<LabeledLine> rows =
            labeled_data(data, format, message_columns, source_column, label_column);
        std::string json;
        {
          py::gil_scoped_release release;
          std::unique_ptr<MessageCache> cache =
              mode == CacheMode::off ? nullptr : std::make_unique<MessageCache>(CacheOptions{mode});
          json = evaluate(*c, rows, cache.get()).json();
        }
        return parse_json(json);
      },
      py::arg("classifier"), py::arg("data"), py::arg("format"), py::arg("message_columns"), py::arg("source_column"),
      py::arg("label_column"), py::arg("threshold"), py::arg("cache"));

  py::class_<SentenceEncoder>(m, "_SentenceEncoder")
      .def(py::init([](const std::optional<std::string>& dir, const std::string& precision, int threads) {
             const EncoderOptions o = encoder_options(std::string(kE5Encoder), dir, precision, threads);
             py::gil_scoped_release release;
             return SentenceEncoder::open(o);
           }),
           py::arg("encoder_dir"), py::arg("precision"), py::arg("threads"))
      .def_property_readonly("dim", &SentenceEncoder::dim)
      .def_property_readonly("location", &SentenceEncoder::location)
      .def("embed", [](const SentenceEncoder& self, const py::iterable& texts_in, const std::string& prefix) {
        const py::list texts(texts_in);
        const std::size_t n = texts.size();
        std::vector<std::string> owned(n);
        for (std::size_t i = 0; i < n; ++i) owned[i] = prefix + std::string(utf8_view(texts[i], "texts", i));
        py::array_t<float> out({n, self.dim()});
        float* dst = out.mutable_data();
        {
          py::gil_scoped_release release;
          const std::vector<std::string_view> views(owned.begin(), owned.end());
          const auto vectors = self.embed(views);
          for (std::size_t i = 0; i < n; ++i) std::memcpy(dst + i * self.dim(), vectors[i].data(), self.dim() * sizeof(float));
        }
        return out;
      });
}
