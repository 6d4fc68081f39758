// CellScan.cpp — cell scans split between threads.
#include "CellScan.h"

#include <algorithm>

#include "Parallel.h"

namespace snnc::rt::nn {

namespace {

/// Runs fn(first, last) over element ranges of a cell layer, split between threads at
/// multiples of 64 elements (whole vectors for the scan kernels).
template <typename Fn>
void split_elements(int64_t n, Fn &&fn) {
  constexpr int64_t block = 64;
  parallel_for((n + block - 1) / block, 32,
               [&](int64_t b0, int64_t b1) { fn(b0 * block, std::min(n, b1 * block)); });
}

}  // namespace

void cell_scan_forward(const LayerSpec &l, const float *in, float *out, float *post, int64_t T,
                       int64_t n, int64_t out_stride, int64_t post_stride, const float *prev) {
  split_elements(n, [&](int64_t n0, int64_t n1) {
    if (prev)
      l.forward_from(in + n0, out + n0, post ? post + n0 : nullptr, T, n1 - n0, n, out_stride,
                     post_stride, prev + n0);
    else  // (post is null for a cell without states)
      l.forward(in + n0, out + n0, post ? post + n0 : nullptr, T, n1 - n0, n, out_stride,
                post_stride);
  });
}

void cell_scan_backward(const LayerSpec &l, const float *in, const float *out, const float *post,
                        const float *g_out, const float *g_post, float *g, float *carry, int64_t T,
                        int64_t n, const float *prev, float *add_to) {
  split_elements(n, [&](int64_t n0, int64_t n1) {
    if (prev)
      l.backward_from(in ? in + n0 : nullptr, out ? out + n0 : nullptr, post ? post + n0 : nullptr,
                      g_out + n0, g_post ? g_post + n0 : nullptr, g + n0, carry + n0, T, n1 - n0, n,
                      prev + n0);
    else
      l.backward(in ? in + n0 : nullptr, out ? out + n0 : nullptr, post ? post + n0 : nullptr,
                 g_out + n0, g_post ? g_post + n0 : nullptr, g + n0, carry + n0, T, n1 - n0, n);
    if (add_to)
      for (int64_t t = 0; t < T; ++t)
        for (int64_t k = t * n + n0; k < t * n + n1; ++k) add_to[k] += g[k];
  });
}

}  // namespace snnc::rt::nn
