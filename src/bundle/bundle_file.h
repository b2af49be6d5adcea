// Reading one file of a model bundle directory without trusting it: it must be a regular file (a symlink to
// one is followed) of the size load() expects, which is checked before a byte is read.
#pragma once

#include <string>

#include "bundle/bundle.h"

namespace logclf::bundle {

// The contents of `dir`/`name`; throws Error naming the bundle and the file when it is missing, not a
// regular file, of another size than `size` allows, or changes size while it is read.
std::string read_bundle_file(const std::string& dir, const std::string& name, const FileSize& size);

}  // namespace logclf::bundle
