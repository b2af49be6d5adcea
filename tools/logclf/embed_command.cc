// `logclf embed`: sentence vectors from the E5 encoder, one JSON array per input text (like fastText's
// print-sentence-vectors).
#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "args.h"
#include "command.h"
#include "logclf/encoder.h"
#include "logclf/types.h"

namespace logclf::cli {
namespace {

struct EmbedArgs {
  std::string input = "-", format = "lines", prefix;
  EncoderOptions encoder = cli_encoder_options();
};

// Reads texts in order: one per line, or the `text` field of each JSON line (texts may then hold newlines).
class TextReader {
 public:
  TextReader(const std::string& path, bool jsonl) : jsonl_(jsonl), name_(path == "-" ? "<stdin>" : path) {
    if (path != "-") {
      file_ = std::make_unique<std::ifstream>(path, std::ios::binary);
      if (!*file_) throw Error(path + ": cannot open");
    }
  }
  bool next(std::string& text) {
    std::istream& in = file_ ? *file_ : std::cin;
    std::string line;
    while (std::getline(in, line)) {
      ++line_;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (!jsonl_) {
        text = std::move(line);
        return true;
      }
      if (line.find_first_not_of(" \t") == std::string::npos) continue;  // blank lines separate nothing
      nlohmann::json doc;
      try {
        doc = nlohmann::json::parse(line);
      } catch (const nlohmann::json::parse_error& e) {
        throw Error(name_ + ":" + std::to_string(line_) + ": invalid JSON: " + e.what());
      }
      if (!doc.is_object() || !doc.contains("text") || !doc["text"].is_string())
        throw Error(name_ + ":" + std::to_string(line_) + ": expected an object with a string field 'text'");
      text = doc["text"].get<std::string>();
      return true;
    }
    return false;
  }

 private:
  bool jsonl_;
  std::string name_;
  std::unique_ptr<std::ifstream> file_;
  std::uint64_t line_ = 0;
};

int run_embed(const EmbedArgs& a) {
  EncoderOptions options = a.encoder;
  options.kind = std::string(kE5Encoder);
  const SentenceEncoder encoder = SentenceEncoder::open(options);
  TextReader reader(a.input, a.format == "jsonl");
  // Texts are embedded in chunks (batched, sorted by length inside) and printed in input order.
  constexpr std::size_t kChunk = 256;
  std::vector<std::string> texts;
  std::vector<std::string_view> views;
  std::string out;
  for (bool more = true; more;) {
    texts.clear();
    std::string text;
    while (texts.size() < kChunk && (more = reader.next(text))) texts.push_back(a.prefix + text);
    if (texts.empty()) break;
    views.assign(texts.begin(), texts.end());
    const auto vectors = encoder.embed(views);
    out.clear();
    for (const auto& v : vectors) {
      out.push_back('[');
      for (std::size_t i = 0; i < v.size(); ++i) {
        if (i) out.push_back(',');
        fmt::format_to(std::back_inserter(out), "{}", v[i]);  // shortest text that reads back exactly
      }
      out.append("]\n");
    }
    if (std::fwrite(out.data(), 1, out.size(), stdout) != out.size()) throw Error("cannot write the output");
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace

void add_embed_command(CLI::App& app, Commands& commands) {
  auto args = std::make_shared<EmbedArgs>();
  auto* cmd = app.add_subcommand("embed", "print E5 sentence vectors, one JSON array per input text");
  cmd->add_option("INPUT", args->input, "texts: plain lines, or JSON lines with a 'text' field (- = stdin)")
      ->capture_default_str();
  cmd->add_option("--format", args->format, "input format: lines or jsonl")
      ->check(CLI::IsMember({"lines", "jsonl"}))
      ->capture_default_str();
  cmd->add_option("--prefix", args->prefix, "put before every text (E5 expects 'passage: ' or 'query: ')");
  cmd->add_option("--encoder-dir", args->encoder.dir,
                  "directory of the E5 weights (default: $LOGCLF_E5_DIR, then the Hugging Face cache)");
  cmd->add_option("--threads", args->encoder.threads, "threads (default: all cores)")->check(CLI::NonNegativeNumber);
  add_precision_option(cmd, args->encoder.precision);
  commands.push_back({cmd, [args] { return run_embed(*args); }});
}

}  // namespace logclf::cli
