// version(), from the project's version in CMakeLists.txt.
#include "logclf/types.h"

namespace logclf {

std::string_view version() { return LOGCLF_VERSION; }

}  // namespace logclf
