// `logclf train`: fit a model bundle on a labelled file and report how it does on held-out rows.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "args.h"
#include "command.h"
#include "logclf/evaluation.h"
#include "logclf/io.h"
#include "logclf/rules.h"
#include "logclf/train.h"
#include "rule_table.h"

namespace logclf::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct TrainArgs {
  std::string data, output, rules_file, class_weight = "balanced", C = "auto", calibration = "temperature";
  std::string heatmap, mined_out;
  TrainOptions options;
  InputOptions input;
  EncoderArgs encoder;
};

int run_train(const TrainArgs& a) {
  TrainOptions options = a.options;
  options.class_weight = a.class_weight == "none" ? ClassWeight::none : ClassWeight::balanced;
  options.calibrate = a.calibration == "temperature";
  if (a.C != "auto") options.C = std::stod(a.C);  // checked by the option's validator
  options.encoder = a.encoder.options;
  if (!a.rules_file.empty()) {
    options.rules = RuleSet::load(a.rules_file);
    options.rules_given = true;
  }
  if (!a.mined_out.empty() && options.mine_rules == 0) options.mine_rules = 10;
  options.data_name = std::filesystem::path(a.data).filename().string();
  const auto rows = read_labeled(a.data, a.input.read_options(a.data, true));
  const auto start = Clock::now();
  TrainResult result = train(rows, options);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  fmt::print("rows: {} read, {} excluded by source, {} decided by rules (not used for the head), "
             "{} train, {} held out\n",
             result.rows, result.rows_excluded, result.rows_rule_matched, result.rows_train, result.rows_test);
  fmt::print("head: {} labels, L-BFGS {} iterations ({}), {:.2f} s\n", result.classifier->labels().size(),
             result.iterations, result.converged ? "converged" : "iteration limit reached", seconds);
  std::vector<std::string> left_out;
  for (const RuleReport& r : result.rules)
    if (r.status.starts_with("left out")) left_out.push_back(r.name + " (" + r.label + ")");
  if (!left_out.empty())
    fmt::print("built-in rules left out, their labels are not in the data: {}\n", fmt::join(left_out, ", "));
  for (const RuleReport& r : result.rules)
    if (r.status.starts_with("dropped"))
      fmt::print(stderr, "logclf: warning: rule '{}' ({}) {} (--keep-all-rules keeps it)\n", r.name, r.label, r.status);
  if (!result.rules.empty()) {
    fmt::print("rules on the training rows (first match):\n");
    print_rule_table(result.rules);
  }
  if (result.mined) {
    fmt::print("mined rules: {} templates seen at least {} times with one label decide {} rows{}\n",
               result.mined->size(), options.mine_rules, result.mined_rows,
               options.use_mined_rules ? " (in the model)" : " (not in the model: --use-mined-rules)");
    if (!a.mined_out.empty()) {
      write_file_atomic(a.mined_out, result.mined->text());
      fmt::print("mined rules written to {}\n", a.mined_out);
    }
  }
  if (result.cv_folds > 0) {
    fmt::print("C {} by {}-fold stratified cross-validation on the training rows; temperature {:.3f}\n",
               fmt::format("{:g}", result.C) + (options.C ? " (given)" : " chosen"), result.cv_folds, result.temperature);
    fmt::print("  {:>8}  {:>14}  {:>11}  {:>12}\n", "C", "out-of-fold", "temperature", "out-of-fold");
    fmt::print("  {:>8}  {:>14}  {:>11}  {:>12}\n", "", "log loss", "", "accuracy");
    for (const auto& c : result.candidates)
      fmt::print("  {:>8g}  {:>14.5f}  {:>11.3f}  {:>12.4f}{}\n", c.C, c.log_loss, c.temperature, c.accuracy,
                 c.C == result.C ? "  <" : "");
  } else {
    fmt::print("C {:g}, no calibration{}\n", result.C,
               result.selection_note.empty() ? "" : " (" + result.selection_note + ")");
  }
  if (result.held_out) {
    const ClassificationReport& p = *result.held_out_pipeline;
    fmt::print("\nheld-out report (the pipeline at threshold {}: Uncertain counts as wrong; {} of {} Uncertain{}):\n\n{}",
               options.threshold, result.held_out_uncertain, p.total(),
               result.held_out_by_rule ? fmt::format(", {} decided by rules", result.held_out_by_rule) : "",
               p.text());
    fmt::print("\nheld-out report (head alone, arg-max):\n\n{}", result.held_out->text());
    fmt::print("\nreliability of the head's top probability on the held-out rows:\n{}",
               result.held_out_calibration->text());
    if (!a.heatmap.empty()) {
      write_heatmap_png(p, a.heatmap,
                        fmt::format("logclf: {} held out ({} lines, accuracy {:.3f})", options.data_name, p.total(),
                                    p.accuracy()));
      fmt::print("\nheatmap written to {}\n", a.heatmap);
    }
  }
  result.classifier->save(a.output);
  fmt::print("\nmodel written to {}\n", a.output);
  return 0;
}

}  // namespace

void add_train_command(CLI::App& app, Commands& commands) {
  auto args = std::make_shared<TrainArgs>();
  auto* train_cmd = app.add_subcommand("train", "fit a model on a labelled file and report held-out metrics");
  train_cmd->add_option("DATA", args->data, "labelled input (CSV with log_message and target_label)")->required();
  train_cmd->add_option("-o,--output", args->output, "model directory to write")->required();
  train_cmd->add_option("--test-size", args->options.test_size, "held-out share (0 trains on everything)")
      ->capture_default_str()->check(CLI::Range(0.0, 0.99));
  train_cmd->add_option("--seed", args->options.seed, "seed of the stratified split")->capture_default_str();
  train_cmd->add_flag("--refit", args->options.refit,
                      "after the held-out report, fit the saved model on every row");
  train_cmd->add_flag("--all-rows", args->options.all_rows, "fit the head on rule-matched rows too");
  train_cmd->add_option("--rules", args->rules_file,
                        "rules file (default: the built-in rules whose labels are among the training labels)");
  train_cmd->add_flag("--allow-new-labels", args->options.allow_new_labels,
                      "keep --rules rules whose label no training row has (a label only rules give)");
  train_cmd->add_option("--min-rule-precision", args->options.min_rule_precision,
                        "drop a rule right on fewer of the training rows it decides (when it decides 20 or more)")
      ->capture_default_str()->check(CLI::Range(0.0, 1.0));
  train_cmd->add_flag("--keep-all-rules", args->options.keep_all_rules, "keep rules below --min-rule-precision");
  train_cmd->add_option("--mine-rules", args->options.mine_rules,
                        "propose a rule for every template seen at least N times with one label")
      ->check(CLI::Range(1, 1000000));
  train_cmd->add_option("--mine-rules-out", args->mined_out,
                        "write the proposed rules to this rules file (implies --mine-rules 10 unless given)");
  train_cmd->add_flag("--use-mined-rules", args->options.use_mined_rules,
                      "put the mined rules in the model, after the other rules")
      ->needs("--mine-rules");
  train_cmd->add_option("--exclude-source", args->options.exclude_sources, "leave out rows from this source")
      ->take_all()->allow_extra_args(false);
  train_cmd->add_option("--C", args->C,
                        "inverse L2 regularisation strength, or auto: chosen by cross-validation on the training rows")
      ->capture_default_str()
      ->check(CLI::Validator(
          [](std::string& v) -> std::string {
            if (v == "auto") return {};
            try {
              std::size_t end = 0;
              const double c = std::stod(v, &end);
              if (end == v.size() && c > 0 && std::isfinite(c)) return {};
            } catch (const std::exception&) {
            }
            return "--C must be a positive number or auto, not '" + v + "'";
          },
          "POSITIVE|auto"));
  train_cmd->add_option("--cv-folds", args->options.cv_folds,
                        "folds of the cross-validation choosing C (default: 5 up to 2,000 training rows, else 3)")
      ->check(CLI::Range(2, 20));
  train_cmd->add_option("--calibration", args->calibration,
                        "temperature: scale the head's probabilities to match its out-of-fold accuracy; none")
      ->capture_default_str()->check(CLI::IsMember({"temperature", "none"}));
  train_cmd->add_option("--heatmap", args->heatmap, "write the held-out confusion matrix as a PNG heatmap");
  train_cmd->add_option("--max-iter", args->options.max_iter, "L-BFGS iteration limit")->capture_default_str();
  train_cmd->add_option("--class-weight", args->class_weight, "balanced or none")
      ->capture_default_str()->check(CLI::IsMember({"balanced", "none"}));
  train_cmd->add_option("--threshold", args->options.threshold, "head probability below which a line is Uncertain")
      ->capture_default_str()->check(CLI::Range(0.0, 1.0));
  args->input.add_to(train_cmd, true);
  args->encoder.add_to(train_cmd, true);
  commands.push_back({train_cmd, [args] { return run_train(*args); }});
}

}  // namespace logclf::cli
