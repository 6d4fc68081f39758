// Ops.h — the stateless tensor ops of a layer network on [rows][...] batches, where
// rows = T * B: linear (one GEMM), conv2d (im2col + GEMM per sample), max/avg pooling.
// GEMMs go through CBLAS (OpenBLAS).
#pragma once
#include <cstdint>
#include <vector>

#include "Network.h"

namespace snnc::rt::nn {

void linear_forward(const float *x, const float *w, const float *b, float *y, int64_t rows,
                    int64_t in, int64_t out);
/// g_x may be null (no input gradient needed); g_w and g_b accumulate.
void linear_backward(const float *x, const float *w, const float *g_y, float *g_x, float *g_w,
                     float *g_b, int64_t rows, int64_t in, int64_t out);

void conv2d_forward(const float *x, const float *w, const float *b, float *y, int64_t rows,
                    const std::vector<int64_t> &in_shape, const LayerSpec &l);
void conv2d_backward(const float *x, const float *w, const float *g_y, float *g_x, float *g_w,
                     float *g_b, int64_t rows, const std::vector<int64_t> &in_shape,
                     const LayerSpec &l);

void maxpool_forward(const float *x, float *y, std::vector<int32_t> &argmax, int64_t rows,
                     const std::vector<int64_t> &in_shape, const LayerSpec &l);
void maxpool_backward(const float *g_y, float *g_x, const std::vector<int32_t> &argmax,
                      int64_t rows, const std::vector<int64_t> &in_shape, const LayerSpec &l);
void avgpool_forward(const float *x, float *y, int64_t rows, const std::vector<int64_t> &in_shape,
                     const LayerSpec &l);
void avgpool_backward(const float *g_y, float *g_x, int64_t rows,
                      const std::vector<int64_t> &in_shape, const LayerSpec &l);

}  // namespace snnc::rt::nn
