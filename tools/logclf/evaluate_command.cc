// `logclf evaluate`: precision, recall, F1, the confusion matrix and the rules' precision of a model on
// labelled data.
#include <fmt/format.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "args.h"
#include "command.h"
#include "logclf/evaluation.h"
#include "logclf/io.h"
#include "rule_table.h"

namespace logclf::cli {
namespace {

struct EvaluateArgs {
  std::string data, model_dir, heatmap;
  bool json = false;
  std::optional<double> threshold;
  InputOptions in;
  EncoderArgs encoder;
  CacheArgs cache;
};

int run_evaluate(const EvaluateArgs& a) {
  Classifier classifier = load_model(a.model_dir, a.encoder);
  if (a.threshold) classifier.set_threshold(*a.threshold);
  const auto rows = read_labeled(a.data, a.in.read_options(a.data, true));
  const std::unique_ptr<MessageCache> cache = a.cache.make();
  const PipelineEvaluation e = evaluate(classifier, rows, cache.get());
  if (!a.heatmap.empty())
    write_heatmap_png(e.hybrid, a.heatmap,
                      fmt::format("logclf: {} ({} lines, accuracy {:.3f})",
                                  std::filesystem::path(a.data).filename().string(), e.total, e.hybrid.accuracy()));
  if (a.json) {
    fmt::print("{}\n", e.json());
    return 0;
  }
  fmt::print("Hybrid pipeline on {} ({} lines)\n\n{}\n", a.data, e.total, e.hybrid.text());
  fmt::print("Stages: rule {} ({:.1f}%), model {} ({:.1f}%), uncertain {} ({:.1f}%)\n\n", e.by_rule,
             100.0 * e.by_rule / e.total, e.by_model, 100.0 * e.by_model / e.total, e.uncertain,
             100.0 * e.uncertain / e.total);
  if (e.cache_mode)
    fmt::print("Cache ({}): {} of {} lines answered from it ({:.1f}%)\n\n", to_string(*e.cache_mode), e.cache.hits,
               e.cache.lookups, 100.0 * e.cache.hit_rate());
  fmt::print("Rules (coverage {:.1f}%):\n", 100.0 * e.by_rule / e.total);
  print_rule_table(e.rules);
  if (e.model)
    fmt::print("\nModel alone (arg-max, no threshold) on the {} lines no rule decided:\n\n{}\nReliability of its top "
               "probability:\n{}",
               e.model->total(), e.model->text(), e.model_calibration->text());
  fmt::print("\nConfusion matrix (rows: true, columns: predicted):\n{}", e.hybrid.confusion_text());
  if (!a.heatmap.empty()) fmt::print("\nheatmap written to {}\n", a.heatmap);
  return 0;
}

}  // namespace

void add_evaluate_command(CLI::App& app, Commands& commands) {
  auto args = std::make_shared<EvaluateArgs>();
  auto* evaluate_cmd = app.add_subcommand("evaluate", "report precision, recall, F1 and the confusion matrix on labelled data");
  evaluate_cmd->add_option("DATA", args->data, "labelled input")->required();
  evaluate_cmd->add_option("-m,--model", args->model_dir, "model directory (default: the built-in model)");
  evaluate_cmd->add_flag("--json", args->json, "print the evaluation as JSON");
  evaluate_cmd->add_option("--heatmap", args->heatmap, "write the confusion matrix as a PNG heatmap");
  evaluate_cmd->add_option("--threshold", args->threshold, "override the model's threshold")->check(CLI::Range(0.0, 1.0));
  args->in.add_to(evaluate_cmd, true);
  args->encoder.add_to(evaluate_cmd, false);
  args->cache.add_to(evaluate_cmd, "off");
  commands.push_back({evaluate_cmd, [args] { return run_evaluate(*args); }});
}

}  // namespace logclf::cli
