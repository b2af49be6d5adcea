// Multi-head attention in double, the reference the attention kernels are tested against: per sequence and
// head, softmax(q·kᵀ/√d)·v over packed sequences laid out as attention() reads them. The queries and keys
// pass through `query` and `key` first (identity for fp32; the quantizers' round trip for int8 scores).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

namespace logclf::encoder::e5::testing_attention {

// query/key: (const float* x, int head_dim) -> std::vector<double> of head_dim values.
template <class Query, class Key>
std::vector<double> reference(const std::vector<float>& qkv, std::size_t ld, const std::vector<int>& offsets,
                              int heads, int head_dim, Query query, Key key) {
  const int hidden = heads * head_dim;
  std::vector<double> ref(static_cast<std::size_t>(offsets.back()) * hidden);
  for (std::size_t s = 0; s + 1 < offsets.size(); ++s)
    for (int h = 0; h < heads; ++h)
      for (int i = offsets[s]; i < offsets[s + 1]; ++i) {
        const std::vector<double> q = query(&qkv[i * ld + h * head_dim], head_dim);
        std::vector<double> w;
        double top = -1e300;
        for (int j = offsets[s]; j < offsets[s + 1]; ++j) {
          const std::vector<double> k = key(&qkv[j * ld + hidden + h * head_dim], head_dim);
          double dot = 0.0;
          for (int d = 0; d < head_dim; ++d) dot += q[static_cast<std::size_t>(d)] * k[static_cast<std::size_t>(d)];
          w.push_back(dot / std::sqrt(static_cast<double>(head_dim)));
          top = std::max(top, w.back());
        }
        double sum = 0.0;
        for (double& v : w) sum += v = std::exp(v - top);
        for (int d = 0; d < head_dim; ++d) {
          double o = 0.0;
          for (int j = offsets[s]; j < offsets[s + 1]; ++j)
            o += w[static_cast<std::size_t>(j - offsets[s])] / sum * qkv[j * ld + 2 * hidden + h * head_dim + d];
          ref[static_cast<std::size_t>(i) * hidden + h * head_dim + d] = o;
        }
      }
  return ref;
}

inline std::vector<double> as_doubles(const float* x, int n) { return std::vector<double>(x, x + n); }

}  // namespace logclf::encoder::e5::testing_attention
