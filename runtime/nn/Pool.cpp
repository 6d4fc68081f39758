// Pool.cpp — max and average pooling, forward and backward, rows split between threads.
// Max pooling records each output's winning input (the first maximum in window order) for
// the backward pass, as a one-byte offset in its window.
#include <immintrin.h>

#include <algorithm>
#include <limits>
#include <stdexcept>

#include "Ops.h"

#include "CpuFeatures.h"
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

/// One output row of the common 2x2, stride 2, no padding case. Selects instead of
/// branches (the comparisons of conv outputs are unpredictable; branches cost a mispredict
/// per window), so the loop vectorizes; the first maximum in window order still wins.
__attribute__((target_clones("avx2", "default"))) void maxpool_2x2_row(
    const float *__restrict top, const float *__restrict bottom, float *__restrict out,
    Winner *__restrict arg, int64_t OW) {
  for (int64_t ox = 0; ox < OW; ++ox) {
    float best = top[2 * ox];
    Winner at = 0;
    const float b = top[2 * ox + 1], c = bottom[2 * ox], d = bottom[2 * ox + 1];
    at = b > best ? Winner{1} : at;
    best = b > best ? b : best;
    at = c > best ? Winner{2} : at;
    best = c > best ? c : best;
    at = d > best ? Winner{3} : at;
    best = d > best ? d : best;
    out[ox] = best;
    arg[ox] = at;
  }
}

/// The same row with AVX-512, 16 outputs per step: masked loads of the two input rows, the
/// window's four values split out by permutes, compare masks for the winner.
__attribute__((target("avx512f,avx512bw,avx512vl"))) void maxpool_2x2_row_avx512(
    const float *top, const float *bottom, float *out, Winner *arg, int64_t OW) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
  for (int64_t ox = 0; ox < OW; ox += 16) {
    const int64_t n = std::min<int64_t>(16, OW - ox), m = 2 * n;  // outputs, inputs per row
    const auto lo = static_cast<__mmask16>(m >= 16 ? 0xFFFFu : (1u << m) - 1u);
    const auto hi = static_cast<__mmask16>(m > 16 ? (1u << (m - 16)) - 1u : 0u);
    const float *t = top + 2 * ox, *u = bottom + 2 * ox;
    const __m512 t0 = _mm512_maskz_loadu_ps(lo, t), t1 = _mm512_maskz_loadu_ps(hi, t + 16);
    const __m512 u0 = _mm512_maskz_loadu_ps(lo, u), u1 = _mm512_maskz_loadu_ps(hi, u + 16);
    __m512 best = _mm512_permutex2var_ps(t0, even, t1);
    __m512i at = _mm512_setzero_si512();
    const __m512 candidates[3] = {_mm512_permutex2var_ps(t0, odd, t1),
                                  _mm512_permutex2var_ps(u0, even, u1),
                                  _mm512_permutex2var_ps(u0, odd, u1)};
    for (int k = 0; k < 3; ++k) {  // strictly greater: the first maximum keeps its place
      const __mmask16 wins = _mm512_cmp_ps_mask(candidates[k], best, _CMP_GT_OQ);
      best = _mm512_mask_mov_ps(best, wins, candidates[k]);
      at = _mm512_mask_mov_epi32(at, wins, _mm512_set1_epi32(k + 1));
    }
    const auto kept = static_cast<__mmask16>((1u << n) - 1u);
    _mm512_mask_storeu_ps(out + ox, kept, best);
    _mm_mask_storeu_epi8(arg + ox, kept, _mm512_maskz_cvtepi32_epi8(0xFFFF, at));
  }
}

const bool kHasAvx512 = cpu_features().avx512bw_vl;

void maxpool_2x2(const float *x, float *y, Winner *argmax, const Window &g) {
  for (int64_t c = 0; c < g.C; ++c)
    for (int64_t oy = 0; oy < g.OH; ++oy) {
      const float *top = x + (c * g.H + 2 * oy) * g.W;
      float *out = y + (c * g.OH + oy) * g.OW;
      Winner *arg = argmax + (c * g.OH + oy) * g.OW;
      if (kHasAvx512)
        maxpool_2x2_row_avx512(top, top + g.W, out, arg, g.OW);
      else
        maxpool_2x2_row(top, top + g.W, out, arg, g.OW);
    }
}

}  // namespace

void winner_indices(const Winner *winners, int32_t *index, int64_t C, int64_t H, int64_t W,
                    int64_t k, int64_t s, int64_t p) {
  const int64_t OH = (H + 2 * p - k) / s + 1, OW = (W + 2 * p - k) / s + 1;
  int32_t offset[256];  // window position -> offset from the window's corner (no divisions)
  for (int64_t w = 0; w < k * k; ++w) offset[w] = static_cast<int32_t>((w / k) * W + w % k);
  for (int64_t c = 0; c < C; ++c)
    for (int64_t oy = 0; oy < OH; ++oy) {
      const int64_t o0 = (c * OH + oy) * OW;
      const int64_t corner = (c * H + oy * s - p) * W - p;
      for (int64_t ox = 0; ox < OW; ++ox) {
        const Winner w = winners[o0 + ox];
        index[o0 + ox] = w == kNoWinner ? -1 : static_cast<int32_t>(corner + ox * s + offset[w]);
      }
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
