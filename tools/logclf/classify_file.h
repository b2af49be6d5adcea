// `logclf classify`'s run over one file, which `logclf bench classify` measures: its options and the run.
#pragma once

#include <optional>
#include <string>

#include "args.h"
#include "logclf/cache.h"
#include "logclf/classifier.h"
#include "logclf/stream.h"

namespace logclf::cli {

struct ClassifyArgs {
  std::string input = "-", output = "-", model_dir, output_format;
  std::string on_error = "fail";
  bool explain = false, quiet = false;
  std::optional<double> threshold;
  int workers = 0;
  InputOptions in;
  EncoderArgs encoder;
  CacheArgs cache;
};

// Reads a.input, classifies it and writes a.output, with a progress line on a terminal unless a.quiet.
StreamStats classify_file(const Classifier& classifier, const ClassifyArgs& a, MessageCache* cache);

}  // namespace logclf::cli
