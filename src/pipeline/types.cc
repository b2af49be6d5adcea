#include "logclf/types.h"

namespace logclf {

std::string_view to_string(Stage stage) {
  switch (stage) {
    case Stage::rule: return "rule";
    case Stage::model: return "model";
    case Stage::uncertain: return "uncertain";
  }
  return "uncertain";
}

}  // namespace logclf
