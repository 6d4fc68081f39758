// Ops.cpp — linear, im2col convolution and pooling, forward and backward.
#include "Ops.h"

#include <cblas.h>

#include <algorithm>
#include <limits>

namespace snnc::rt::nn {

void linear_forward(const float *x, const float *w, const float *b, float *y, int64_t rows,
                    int64_t in, int64_t out) {
  for (int64_t r = 0; r < rows; ++r) std::copy(b, b + out, y + r * out);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, out, in, 1.f, x, in, w, in, 1.f, y,
              out);
}

void linear_backward(const float *x, const float *w, const float *g_y, float *g_x, float *g_w,
                     float *g_b, int64_t rows, int64_t in, int64_t out) {
  if (g_x)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, in, out, 1.f, g_y, out, w, in, 0.f,
                g_x, in);
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out, in, rows, 1.f, g_y, out, x, in, 1.f,
              g_w, in);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t o = 0; o < out; ++o) g_b[o] += g_y[r * out + o];
}

namespace {

struct ConvGeometry {
  int64_t C, H, W, K, S, P, OH, OW;
};

ConvGeometry geometry(const std::vector<int64_t> &in, const LayerSpec &l) {
  ConvGeometry g{in[0], in[1], in[2], l.kernel, l.stride, l.padding, 0, 0};
  g.OH = (g.H + 2 * g.P - g.K) / g.S + 1;
  g.OW = (g.W + 2 * g.P - g.K) / g.S + 1;
  return g;
}

/// cols[(c*K + ky)*K + kx][oy*OW + ox] = x[c][oy*S - P + ky][ox*S - P + kx] (0 outside)
void im2col(const float *x, float *cols, const ConvGeometry &g) {
  for (int64_t c = 0; c < g.C; ++c)
    for (int64_t ky = 0; ky < g.K; ++ky)
      for (int64_t kx = 0; kx < g.K; ++kx) {
        float *row = cols + ((c * g.K + ky) * g.K + kx) * g.OH * g.OW;
        for (int64_t oy = 0; oy < g.OH; ++oy) {
          int64_t iy = oy * g.S - g.P + ky;
          for (int64_t ox = 0; ox < g.OW; ++ox) {
            int64_t ix = ox * g.S - g.P + kx;
            bool inside = iy >= 0 && iy < g.H && ix >= 0 && ix < g.W;
            row[oy * g.OW + ox] = inside ? x[(c * g.H + iy) * g.W + ix] : 0.f;
          }
        }
      }
}

void col2im(const float *cols, float *x, const ConvGeometry &g) {
  for (int64_t c = 0; c < g.C; ++c)
    for (int64_t ky = 0; ky < g.K; ++ky)
      for (int64_t kx = 0; kx < g.K; ++kx) {
        const float *row = cols + ((c * g.K + ky) * g.K + kx) * g.OH * g.OW;
        for (int64_t oy = 0; oy < g.OH; ++oy) {
          int64_t iy = oy * g.S - g.P + ky;
          if (iy < 0 || iy >= g.H) continue;
          for (int64_t ox = 0; ox < g.OW; ++ox) {
            int64_t ix = ox * g.S - g.P + kx;
            if (ix >= 0 && ix < g.W) x[(c * g.H + iy) * g.W + ix] += row[oy * g.OW + ox];
          }
        }
      }
}

}  // namespace

void conv2d_forward(const float *x, const float *w, const float *b, float *y, int64_t rows,
                    const std::vector<int64_t> &in_shape, const LayerSpec &l) {
  ConvGeometry g = geometry(in_shape, l);
  int64_t ckk = g.C * g.K * g.K, hw = g.OH * g.OW, in_size = g.C * g.H * g.W;
  std::vector<float> cols(ckk * hw);
  for (int64_t r = 0; r < rows; ++r) {
    im2col(x + r * in_size, cols.data(), g);
    float *out = y + r * l.channels * hw;
    for (int64_t o = 0; o < l.channels; ++o) std::fill(out + o * hw, out + (o + 1) * hw, b[o]);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, l.channels, hw, ckk, 1.f, w, ckk,
                cols.data(), hw, 1.f, out, hw);
  }
}

void conv2d_backward(const float *x, const float *w, const float *g_y, float *g_x, float *g_w,
                     float *g_b, int64_t rows, const std::vector<int64_t> &in_shape,
                     const LayerSpec &l) {
  ConvGeometry g = geometry(in_shape, l);
  int64_t ckk = g.C * g.K * g.K, hw = g.OH * g.OW, in_size = g.C * g.H * g.W;
  std::vector<float> cols(ckk * hw), g_cols(ckk * hw);
  for (int64_t r = 0; r < rows; ++r) {
    const float *gy = g_y + r * l.channels * hw;
    im2col(x + r * in_size, cols.data(), g);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, l.channels, ckk, hw, 1.f, gy, hw,
                cols.data(), hw, 1.f, g_w, ckk);
    for (int64_t o = 0; o < l.channels; ++o)
      for (int64_t k = 0; k < hw; ++k) g_b[o] += gy[o * hw + k];
    if (g_x) {
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, ckk, hw, l.channels, 1.f, w, ckk, gy, hw,
                  0.f, g_cols.data(), hw);
      col2im(g_cols.data(), g_x + r * in_size, g);
    }
  }
}

void maxpool_forward(const float *x, float *y, std::vector<int32_t> &argmax, int64_t rows,
                     const std::vector<int64_t> &in, const LayerSpec &l) {
  ConvGeometry g = geometry(in, l);
  int64_t out_size = g.C * g.OH * g.OW, in_size = g.C * g.H * g.W;
  argmax.resize(rows * out_size);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < g.C; ++c)
      for (int64_t oy = 0; oy < g.OH; ++oy)
        for (int64_t ox = 0; ox < g.OW; ++ox) {
          float best = -std::numeric_limits<float>::infinity();
          int32_t where = -1;
          for (int64_t ky = 0; ky < g.K; ++ky)
            for (int64_t kx = 0; kx < g.K; ++kx) {
              int64_t iy = oy * g.S - g.P + ky, ix = ox * g.S - g.P + kx;
              if (iy < 0 || iy >= g.H || ix < 0 || ix >= g.W) continue;
              int32_t at = static_cast<int32_t>((c * g.H + iy) * g.W + ix);
              if (x[r * in_size + at] > best) best = x[r * in_size + at], where = at;
            }
          int64_t o = r * out_size + (c * g.OH + oy) * g.OW + ox;
          y[o] = best;
          argmax[o] = where;
        }
}

void maxpool_backward(const float *g_y, float *g_x, const std::vector<int32_t> &argmax,
                      int64_t rows, const std::vector<int64_t> &in, const LayerSpec &l) {
  ConvGeometry g = geometry(in, l);
  int64_t out_size = g.C * g.OH * g.OW, in_size = g.C * g.H * g.W;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t k = 0; k < out_size; ++k)
      if (argmax[r * out_size + k] >= 0)
        g_x[r * in_size + argmax[r * out_size + k]] += g_y[r * out_size + k];
}

void avgpool_forward(const float *x, float *y, int64_t rows, const std::vector<int64_t> &in,
                     const LayerSpec &l) {
  ConvGeometry g = geometry(in, l);
  int64_t out_size = g.C * g.OH * g.OW, in_size = g.C * g.H * g.W;
  float scale = 1.f / static_cast<float>(g.K * g.K);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < g.C; ++c)
      for (int64_t oy = 0; oy < g.OH; ++oy)
        for (int64_t ox = 0; ox < g.OW; ++ox) {
          float sum = 0;
          for (int64_t ky = 0; ky < g.K; ++ky)
            for (int64_t kx = 0; kx < g.K; ++kx) {
              int64_t iy = oy * g.S - g.P + ky, ix = ox * g.S - g.P + kx;
              if (iy >= 0 && iy < g.H && ix >= 0 && ix < g.W)
                sum += x[r * in_size + (c * g.H + iy) * g.W + ix];
            }
          y[r * out_size + (c * g.OH + oy) * g.OW + ox] = sum * scale;
        }
}

void avgpool_backward(const float *g_y, float *g_x, int64_t rows, const std::vector<int64_t> &in,
                      const LayerSpec &l) {
  ConvGeometry g = geometry(in, l);
  int64_t out_size = g.C * g.OH * g.OW, in_size = g.C * g.H * g.W;
  float scale = 1.f / static_cast<float>(g.K * g.K);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < g.C; ++c)
      for (int64_t oy = 0; oy < g.OH; ++oy)
        for (int64_t ox = 0; ox < g.OW; ++ox) {
          float gv = g_y[r * out_size + (c * g.OH + oy) * g.OW + ox] * scale;
          for (int64_t ky = 0; ky < g.K; ++ky)
            for (int64_t kx = 0; kx < g.K; ++kx) {
              int64_t iy = oy * g.S - g.P + ky, ix = ox * g.S - g.P + kx;
              if (iy >= 0 && iy < g.H && ix >= 0 && ix < g.W)
                g_x[r * in_size + (c * g.H + iy) * g.W + ix] += gv;
            }
        }
}

}  // namespace snnc::rt::nn
