// Pool.cpp — max and average pooling, forward and backward, rows split between threads.
// Max pooling records each output's winning input (the first maximum in window order) for
// the backward pass, as a one-byte offset in its window.
#include <algorithm>
#include <limits>
#include <stdexcept>

#include "Ops.h"
#include "Parallel.h"

namespace snnc::rt::nn {
namespace {

struct Window {
  int64_t C, H, W, K, S, P, OH, OW;
  int64_t in_size() const { return C * H * W; }
  int64_t out_size() const { return C * OH * OW; }
};

Window window(const std::vector<int64_t> &in, const LayerSpec &l) {
  Window g{in[0], in[1], in[2], l.kernel, l.stride, l.padding, 0, 0};
  g.OH = (g.H + 2 * g.P - g.K) / g.S + 1;
  g.OW = (g.W + 2 * g.P - g.K) / g.S + 1;
  return g;
}

/// The common 2x2, stride 2, no padding case without bounds checks.
void maxpool_2x2(const float *x, float *y, Winner *argmax, const Window &g) {
  for (int64_t c = 0; c < g.C; ++c)
    for (int64_t oy = 0; oy < g.OH; ++oy) {
      const float *top = x + (c * g.H + 2 * oy) * g.W, *bottom = top + g.W;
      float *out = y + (c * g.OH + oy) * g.OW;
      Winner *arg = argmax + (c * g.OH + oy) * g.OW;
      for (int64_t ox = 0; ox < g.OW; ++ox) {
        float best = top[2 * ox];
        Winner at = 0;
        if (top[2 * ox + 1] > best) best = top[2 * ox + 1], at = 1;
        if (bottom[2 * ox] > best) best = bottom[2 * ox], at = 2;
        if (bottom[2 * ox + 1] > best) best = bottom[2 * ox + 1], at = 3;
        out[ox] = best;
        arg[ox] = at;
      }
    }
}

}  // namespace

void winner_indices(const Winner *winners, int32_t *index, int64_t C, int64_t H, int64_t W,
                    int64_t k, int64_t s, int64_t p) {
  const int64_t OH = (H + 2 * p - k) / s + 1, OW = (W + 2 * p - k) / s + 1;
  for (int64_t c = 0; c < C; ++c)
    for (int64_t oy = 0; oy < OH; ++oy)
      for (int64_t ox = 0; ox < OW; ++ox) {
        const int64_t o = (c * OH + oy) * OW + ox;
        const Winner w = winners[o];
        index[o] =
            w == kNoWinner
                ? -1
                : static_cast<int32_t>((c * H + oy * s - p + w / k) * W + ox * s - p + w % k);
      }
}

void maxpool_sample(const float *x, float *y, Winner *argmax, int64_t C, int64_t H, int64_t W,
                    int64_t k, int64_t s, int64_t p) {
  // k <= 15 (the frontend's limit), so k*k fits a Winner below kNoWinner
  Window g{C, H, W, k, s, p, (H + 2 * p - k) / s + 1, (W + 2 * p - k) / s + 1};
  thread_local std::vector<Winner> unused;  // winners nobody will read (forward-only)
  if (!argmax) {
    unused.resize(g.out_size());
    argmax = unused.data();
  }
  if (g.K == 2 && g.S == 2 && g.P == 0) {
    maxpool_2x2(x, y, argmax, g);
    return;
  }
  for (int64_t c = 0; c < g.C; ++c)
    for (int64_t oy = 0; oy < g.OH; ++oy)
      for (int64_t ox = 0; ox < g.OW; ++ox) {
        float best = -std::numeric_limits<float>::infinity();
        Winner where = kNoWinner;
        for (int64_t ky = 0; ky < g.K; ++ky)
          for (int64_t kx = 0; kx < g.K; ++kx) {
            int64_t iy = oy * g.S - g.P + ky, ix = ox * g.S - g.P + kx;
            if (iy < 0 || iy >= g.H || ix < 0 || ix >= g.W) continue;
            const float v = x[(c * g.H + iy) * g.W + ix];
            if (v > best) best = v, where = static_cast<Winner>(ky * g.K + kx);
          }
        int64_t o = (c * g.OH + oy) * g.OW + ox;
        y[o] = best;
        argmax[o] = where;
      }
}

void maxpool_forward(const float *x, float *y, Winner *arg_all, int64_t rows,
                     const std::vector<int64_t> &in, const LayerSpec &l) {
  const Window g = window(in, l);
  const int64_t out_size = g.out_size(), in_size = g.in_size();
  parallel_for(rows, 8, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r)
      maxpool_sample(x + r * in_size, y + r * out_size, arg_all ? arg_all + r * out_size : nullptr,
                     g.C, g.H, g.W, g.K, g.S, g.P);
  });
}

void maxpool_backward(const float *g_y, float *g_x, const std::vector<Winner> &argmax, int64_t rows,
                      const std::vector<int64_t> &in, const LayerSpec &l) {
  const Window g = window(in, l);
  const int64_t out_size = g.out_size(), in_size = g.in_size();
  parallel_for(rows, 8, [&](int64_t r0, int64_t r1) {
    thread_local std::vector<int32_t> index;
    index.resize(out_size);
    for (int64_t r = r0; r < r1; ++r) {
      winner_indices(argmax.data() + r * out_size, index.data(), g.C, g.H, g.W, g.K, g.S, g.P);
      for (int64_t k = 0; k < out_size; ++k)
        if (index[k] >= 0) g_x[r * in_size + index[k]] += g_y[r * out_size + k];
    }
  });
}

void avgpool_forward(const float *x, float *y, int64_t rows, const std::vector<int64_t> &in,
                     const LayerSpec &l) {
  const Window g = window(in, l);
  const int64_t out_size = g.out_size(), in_size = g.in_size();
  const float scale = 1.f / static_cast<float>(g.K * g.K);
  parallel_for(rows, 8, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r)
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
  });
}

void avgpool_backward(const float *g_y, float *g_x, int64_t rows, const std::vector<int64_t> &in,
                      const LayerSpec &l) {
  const Window g = window(in, l);
  const int64_t out_size = g.out_size(), in_size = g.in_size();
  const float scale = 1.f / static_cast<float>(g.K * g.K);
  parallel_for(rows, 8, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r)
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
  });
}

}  // namespace snnc::rt::nn
