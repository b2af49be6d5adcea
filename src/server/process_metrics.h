// The standard process_* series of Prometheus clients (resident and virtual memory, CPU time, open and
// maximum descriptors, start time), read from /proc/self on each scrape, and logclf_build_info.
#pragma once

#include <string>

namespace logclf::server {

// Appends the series in the text exposition format; a value /proc cannot give is left out.
void append_process_metrics(std::string& out);

}  // namespace logclf::server
