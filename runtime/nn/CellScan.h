// CellScan.h — a cell layer's generated scan kernels (Layers.h) run over its n = B*features
// elements, split between the threads at multiples of 64 elements (whole vectors for the
// kernels), from a time segment's boundary where there is one (TimeSegments.h).
#pragma once
#include <cstdint>

#include "Layers.h"

namespace snnc::rt::nn {

/// The forward scan over T steps of n elements (strides as for CellForward; post is null for
/// a cell without states), from `prev` (states, then spikes, before the first step) or, where
/// that is null, from rest.
void cell_scan_forward(const LayerSpec &l, const float *in, float *out, float *post, int64_t T,
                       int64_t n, int64_t out_stride, int64_t post_stride, const float *prev);
/// The backward scan (in, out, post and g_post may be null) writing the input gradient to g;
/// with `add_to`, g is then added to it, each thread its own elements.
void cell_scan_backward(const LayerSpec &l, const float *in, const float *out, const float *post,
                        const float *g_out, const float *g_post, float *g, float *carry, int64_t T,
                        int64_t n, const float *prev, float *add_to);

}  // namespace snnc::rt::nn
