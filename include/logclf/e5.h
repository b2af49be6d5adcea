// The E5-small-v2 encoder's compute on this machine.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "logclf/encoder.h"

namespace logclf {

// The E5 kernels this CPU selects at run time (by CPUID) and the CPU features they are chosen by.
struct ComputeKernels {
  std::string fp32;  // the fp32 kernels: "fp32 avx2+fma" or "fp32 portable"
  std::string int8;  // the int8 Linear layers': "int8 avx512-vnni", "int8 avx2" or "int8 portable"
  Precision automatic = Precision::fp32;  // what Precision::auto_ means here
  // AVX2, FMA, AVX-512F, AVX512-VNNI and AVX512-BF16, in that order, and whether the CPU has each.
  std::vector<std::pair<std::string, bool>> cpu_features;
};
ComputeKernels compute_kernels();

}  // namespace logclf
