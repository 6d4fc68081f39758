// Conv.cpp — 2-D convolution, forward and backward, dense (im2col of a block of samples,
// one GEMM per block) or event-driven (each nonzero input scatters its kernel taps; binary
// inputs take the sums of ConvSums.cpp where they apply).
//
// Layouts: x [rows][C][H][W], y [rows][Cout][OH][OW], w [Cout][C][K][K]. The event paths
// work on position-major scratch ([OH*OW][Cout]) and the transposed weight [C*K*K][Cout],
// so the innermost loop runs over output channels, contiguous in both.
#include <cblas.h>
#include <immintrin.h>

#include <algorithm>
#include <limits>
#include <optional>

#include "Aligned.h"

#include "CpuFeatures.h"
#include "ConvGeometry.h"
#include "ConvSums.h"
#include "Ops.h"
#include "Parallel.h"

namespace snnc::rt::nn {
namespace {

constexpr int64_t kRowChunk = 32;  // samples per GEMM block
// samples per forward GEMM block: its im2col patches (K*K*C x samples*OH*OW floats) stay in
// L2 (conv2 of examples/mnist_csnn.snn: 307 KB at 4 samples, 2.4 MB at 32)
constexpr int64_t kForwardChunk = 4;
constexpr int64_t kPartialGroup = 4;  // blocks per weight-gradient partial

/// cols[(c*K + ky)*K + kx][oy*OW + ox] (row length ld) = x[c][oy*S - P + ky][ox*S - P + kx]
void im2col(const float *x, float *cols, int64_t ld, const Geometry &g) {
  for (int64_t c = 0; c < g.C; ++c)
    for (int64_t ky = 0; ky < g.K; ++ky)
      for (int64_t kx = 0; kx < g.K; ++kx) {
        float *row = cols + ((c * g.K + ky) * g.K + kx) * ld;
        for (int64_t oy = 0; oy < g.OH; ++oy) {
          int64_t iy = oy * g.S - g.P + ky;
          float *dst = row + oy * g.OW;
          if (iy < 0 || iy >= g.H) {
            std::fill(dst, dst + g.OW, 0.f);
            continue;
          }
          const float *src = x + (c * g.H + iy) * g.W;
          for (int64_t ox = 0; ox < g.OW; ++ox) {
            int64_t ix = ox * g.S - g.P + kx;
            dst[ox] = ix >= 0 && ix < g.W ? src[ix] : 0.f;
          }
        }
      }
}

/// dst[0, n) += src[0, n) (separate buffers: vectorizes)
inline void add_row(float *__restrict dst, const float *__restrict src, int64_t n) {
  for (int64_t k = 0; k < n; ++k) dst[k] += src[k];
}

void col2im(const float *cols, int64_t ld, float *x, const Geometry &g) {
  if (g.S == 1) {  // the common case: each tap's row adds a contiguous, clipped range
    for (int64_t c = 0; c < g.C; ++c)
      for (int64_t ky = 0; ky < g.K; ++ky)
        for (int64_t kx = 0; kx < g.K; ++kx) {
          const float *row = cols + ((c * g.K + ky) * g.K + kx) * ld;
          const int64_t shift = kx - g.P;  // ix = ox + shift
          const int64_t ox0 = std::max<int64_t>(0, -shift);
          const int64_t ox1 = std::min<int64_t>(g.OW, g.W - shift);
          if (ox1 <= ox0) continue;
          for (int64_t oy = 0; oy < g.OH; ++oy) {
            const int64_t iy = oy - g.P + ky;
            if (iy < 0 || iy >= g.H) continue;
            add_row(x + (c * g.H + iy) * g.W + ox0 + shift, row + oy * g.OW + ox0, ox1 - ox0);
          }
        }
    return;
  }
  for (int64_t c = 0; c < g.C; ++c)
    for (int64_t ky = 0; ky < g.K; ++ky)
      for (int64_t kx = 0; kx < g.K; ++kx) {
        const float *row = cols + ((c * g.K + ky) * g.K + kx) * ld;
        for (int64_t oy = 0; oy < g.OH; ++oy) {
          int64_t iy = oy * g.S - g.P + ky;
          if (iy < 0 || iy >= g.H) continue;
          float *dst = x + (c * g.H + iy) * g.W;
          for (int64_t ox = 0; ox < g.OW; ++ox) {
            int64_t ix = ox * g.S - g.P + kx;
            if (ix >= 0 && ix < g.W) dst[ix] += row[oy * g.OW + ox];
          }
        }
      }
}

/// dst[0, n) += src[0, n), in the widest vectors the machine has (rows of K*C floats: worth
/// the call through the CPU dispatch, where col2im's short rows keep the inlined add_row).
__attribute__((target_clones("avx512f", "avx2", "default"))) void add_wide_row(
    float *__restrict dst, const float *__restrict src, int64_t n) {
  for (int64_t k = 0; k < n; ++k) dst[k] += src[k];
}

/// One sample's input gradient from its output gradient g_t ([position][Cout]) when most of
/// it is zero (a fused max-pool passes gradient to one position in each window): per output
/// position, its nonzero channels listed (compress_row), their rows of w_t (the weight as
/// [Cout][K][K][C]) summed into a patch [K][K][C] (in channel order, in vector registers),
/// the patch added to a position-major copy of the input gradient ([H][W][C]: K rows of K*C
/// contiguous floats per patch), which is finally added to g_x ([C][H][W]).
void input_grad_by_position(const float *w_t, const float *g_t, float *g_x, const Geometry &g) {
  const int64_t ckk = g.ckk(), Cout = g.Cout, C = g.C, plane = g.H * g.W;
  thread_local std::vector<int32_t> index;
  thread_local std::vector<float> value, patch, g_xt;
  index.resize(Cout);
  value.resize(Cout);
  patch.resize(ckk);
  g_xt.assign(plane * C, 0.f);
  for (int64_t oy = 0, p = 0; oy < g.OH; ++oy)
    for (int64_t ox = 0; ox < g.OW; ++ox, ++p) {
      const int64_t count = compress_row(g_t + p * Cout, Cout, index.data(), value.data());
      if (count == 0) continue;
      sum_rows(index.data(), value.data(), count, w_t, ckk, nullptr, patch.data(), ckk);
      const int64_t y0 = oy * g.S - g.P, x0 = ox * g.S - g.P;  // the window, clipped
      const int64_t kx0 = std::max<int64_t>(0, -x0), kx1 = std::min<int64_t>(g.K, g.W - x0);
      const int64_t ky0 = std::max<int64_t>(0, -y0), ky1 = std::min<int64_t>(g.K, g.H - y0);
      for (int64_t ky = ky0; ky < ky1; ++ky)
        add_wide_row(g_xt.data() + ((y0 + ky) * g.W + x0 + kx0) * C,
                     patch.data() + (ky * g.K + kx0) * C, (kx1 - kx0) * C);
    }
  for (int64_t c = 0; c < C; ++c)
    for (int64_t q = 0; q < plane; ++q) g_x[c * plane + q] += g_xt[q * C + c];
}

/// Calls fn(tap, position) for every kernel tap (c*K + ky)*K + kx through which input
/// element `idx` reaches output position oy*OW + ox.
template <typename Fn>
inline void for_each_tap(int64_t idx, const Geometry &g, Fn &&fn) {
  int64_t c = idx / (g.H * g.W), rem = idx % (g.H * g.W);
  int64_t iy = rem / g.W, ix = rem % g.W;
  if (g.S == 1) {  // the common case, without divisions: taps form a clipped K x K block
    const int64_t ky0 = std::max<int64_t>(0, iy + g.P - (g.OH - 1));
    const int64_t ky1 = std::min<int64_t>(g.K - 1, iy + g.P);
    const int64_t kx0 = std::max<int64_t>(0, ix + g.P - (g.OW - 1));
    const int64_t kx1 = std::min<int64_t>(g.K - 1, ix + g.P);
    for (int64_t ky = ky0; ky <= ky1; ++ky) {
      const int64_t row = (iy + g.P - ky) * g.OW + ix + g.P, tap = (c * g.K + ky) * g.K;
      for (int64_t kx = kx0; kx <= kx1; ++kx) fn(tap + kx, row - kx);
    }
    return;
  }
  for (int64_t ky = 0; ky < g.K; ++ky) {
    int64_t ty = iy + g.P - ky;
    if (ty < 0) break;
    if (ty % g.S || ty / g.S >= g.OH) continue;
    int64_t oy = ty / g.S;
    for (int64_t kx = 0; kx < g.K; ++kx) {
      int64_t tx = ix + g.P - kx;
      if (tx < 0) break;
      if (tx % g.S || tx / g.S >= g.OW) continue;
      fn((c * g.K + ky) * g.K + kx, oy * g.OW + tx / g.S);
    }
  }
}

/// for_each_tap's clipped K x K block of one input element (stride 1), decoded once per
/// element of the input shape instead of by four divisions per event.
struct TapBlock {
  int32_t base =
      0;  ///< (iy + P) * OW + ix + P: the output position of tap (ky, kx) is base - ky*OW - kx
  int32_t tap = 0;  ///< c*K*K: tap (ky, kx) is tap + ky*K + kx
  int8_t ky0 = 0, ky1 = -1, kx0 = 0, kx1 = -1;
};

std::vector<TapBlock> tap_blocks(const Geometry &g) {
  std::vector<TapBlock> blocks(g.in_size());
  for (int64_t c = 0; c < g.C; ++c)
    for (int64_t iy = 0; iy < g.H; ++iy)
      for (int64_t ix = 0; ix < g.W; ++ix) {
        TapBlock &b = blocks[(c * g.H + iy) * g.W + ix];
        b.base = static_cast<int32_t>((iy + g.P) * g.OW + ix + g.P);
        b.tap = static_cast<int32_t>(c * g.K * g.K);
        b.ky0 = static_cast<int8_t>(std::max<int64_t>(0, iy + g.P - (g.OH - 1)));
        b.ky1 = static_cast<int8_t>(std::min<int64_t>(g.K - 1, iy + g.P));
        b.kx0 = static_cast<int8_t>(std::max<int64_t>(0, ix + g.P - (g.OW - 1)));
        b.kx1 = static_cast<int8_t>(std::min<int64_t>(g.K - 1, ix + g.P));
      }
  return blocks;
}

/// acc[position][Cout] += v * wt[tap][Cout] for the events of one sample.
__attribute__((target_clones("avx512f", "avx2", "default"))) void scatter_events(
    const int32_t *index, const float *value, int64_t count, const float *__restrict wt,
    float *__restrict acc, const Geometry &g) {
  const int64_t n = g.Cout;
  for (int64_t e = 0; e < count; ++e) {
    float v = value[e];
    for_each_tap(index[e], g, [&](int64_t tap, int64_t pos) {
      const float *src = wt + tap * n;
      float *dst = acc + pos * n;
      for (int64_t o = 0; o < n; ++o) dst[o] += v * src[o];
    });
  }
}

/// g_wt[tap][Cout] += v * g_t[position][Cout] for the events of one sample.
__attribute__((target_clones("avx512f", "avx2", "default"))) void gather_events(
    const int32_t *index, const float *value, int64_t count, const float *__restrict g_t,
    float *__restrict g_wt, const Geometry &g) {
  const int64_t n = g.Cout;
  for (int64_t e = 0; e < count; ++e) {
    float v = value[e];
    for_each_tap(index[e], g, [&](int64_t tap, int64_t pos) {
      const float *src = g_t + pos * n;
      float *dst = g_wt + tap * n;
      for (int64_t o = 0; o < n; ++o) dst[o] += v * src[o];
    });
  }
}

/// scatter_events / gather_events with the channel count known at compile time (fully
/// unrolled vector code for the common widths), on AVX-512 machines.
template <int N>
__attribute__((target("avx512f"))) void scatter_fixed(const int32_t *index, const float *value,
                                                      int64_t count, const float *__restrict wt,
                                                      float *__restrict acc, const Geometry &g,
                                                      const TapBlock *blocks) {
  if (blocks) {  // (stride 1: the same taps in the same order as for_each_tap)
    for (int64_t e = 0; e < count; ++e) {
      const float v = value[e];
      const TapBlock b = blocks[index[e]];
      for (int64_t ky = b.ky0; ky <= b.ky1; ++ky) {
        const int64_t row = b.base - ky * g.OW, tap = b.tap + ky * g.K;
        for (int64_t kx = b.kx0; kx <= b.kx1; ++kx) {
          const float *src = wt + (tap + kx) * N;
          float *dst = acc + (row - kx) * N;
          for (int o = 0; o < N; ++o) dst[o] += v * src[o];
        }
      }
    }
    return;
  }
  for (int64_t e = 0; e < count; ++e) {
    const float v = value[e];
    for_each_tap(index[e], g, [&](int64_t tap, int64_t pos) {
      const float *src = wt + tap * N;
      float *dst = acc + pos * N;
      for (int o = 0; o < N; ++o) dst[o] += v * src[o];
    });
  }
}

template <int N>
__attribute__((target("avx512f"))) void gather_fixed(const int32_t *index, const float *value,
                                                     int64_t count, const float *__restrict g_t,
                                                     float *__restrict g_wt, const Geometry &g) {
  for (int64_t e = 0; e < count; ++e) {
    const float v = value[e];
    for_each_tap(index[e], g, [&](int64_t tap, int64_t pos) {
      const float *src = g_t + pos * N;
      float *dst = g_wt + tap * N;
      for (int o = 0; o < N; ++o) dst[o] += v * src[o];
    });
  }
}

/// The weight gradient from one sample's events with the sums in registers (stride 1,
/// compile-time kernel width K and NB vectors of 16 output channels, or one masked vector
/// for fewer than 16): for each input channel c and kernel row ky, the K taps' gradient
/// rows g_wt[(c*K + ky)*K + kx] are loaded once, every event of channel c adds its outputs'
/// gradients through them, and they are stored once. Per tap the events are summed in the
/// order of gather_events, so the result is the same.
template <int K, int NB>
__attribute__((target("avx512f"))) void gather_taps(const int32_t *index, const float *value,
                                                    int64_t count, const float *__restrict g_t,
                                                    float *__restrict g_wt, const Geometry &g) {
  const int64_t N = g.Cout, plane = g.H * g.W;
  const auto lanes = static_cast<__mmask16>(N >= 16 ? 0xFFFFu : (1u << N) - 1u);
  int64_t e0 = 0;
  for (int64_t c = 0; c < g.C && e0 < count; ++c) {
    int64_t e1 = e0;  // the events of channel c (sorted by index)
    while (e1 < count && index[e1] < (c + 1) * plane) ++e1;
    for (int64_t ky = 0; ky < K && e1 > e0; ++ky) {
      float *rows = g_wt + (c * K + ky) * K * N;
      __m512 acc[K][NB];
      for (int kx = 0; kx < K; ++kx)
        for (int b = 0; b < NB; ++b)
          acc[kx][b] = _mm512_maskz_loadu_ps(lanes, rows + kx * N + 16 * b);
      for (int64_t e = e0; e < e1; ++e) {
        const int64_t i = index[e] - c * plane, iy = i / g.W, ix = i % g.W;
        const int64_t oy = iy + g.P - ky;
        if (oy < 0 || oy >= g.OH) continue;
        const __m512 v = _mm512_set1_ps(value[e]);
        const float *out_row = g_t + oy * g.OW * N;
        for (int kx = 0; kx < K; ++kx) {
          const int64_t ox = ix + g.P - kx;
          if (ox < 0 || ox >= g.OW) continue;
          for (int b = 0; b < NB; ++b)
            acc[kx][b] = _mm512_fmadd_ps(v, _mm512_maskz_loadu_ps(lanes, out_row + ox * N + 16 * b),
                                         acc[kx][b]);
        }
      }
      for (int kx = 0; kx < K; ++kx)
        for (int b = 0; b < NB; ++b)
          _mm512_mask_storeu_ps(rows + kx * N + 16 * b, lanes, acc[kx][b]);
    }
    e0 = e1;
  }
}

const bool kHasAvx512 = cpu_features().avx512f;

/// acc[pos] += v * wt[tap] (forward) or, with `gather`, g_wt[tap] += v * g_t[pos] (weight
/// gradient), for the events of one sample.
void propagate_events(const int32_t *index, const float *value, int64_t count, const float *src,
                      float *dst, const Geometry &g, bool gather,
                      const TapBlock *blocks = nullptr) {
  if (kHasAvx512 && gather && g.S == 1) {  // the register-blocked weight gradient
    using Gather =
        void (*)(const int32_t *, const float *, int64_t, const float *, float *, const Geometry &);
    // [K == 5][vectors of channels: 1, 2, 4]
    static constexpr Gather kGatherTaps[2][3] = {
        {gather_taps<3, 1>, gather_taps<3, 2>, gather_taps<3, 4>},
        {gather_taps<5, 1>, gather_taps<5, 2>, gather_taps<5, 4>}};
    const int64_t nb = g.Cout < 16 ? 1 : (g.Cout % 16 == 0 ? g.Cout / 16 : 0);
    if ((g.K == 3 || g.K == 5) && (nb == 1 || nb == 2 || nb == 4))
      return kGatherTaps[g.K == 5][nb == 1 ? 0 : nb == 2 ? 1 : 2](index, value, count, src, dst, g);
  }
  if (kHasAvx512) {
#define SNNC_FIXED(n)                                                 \
  case n:                                                             \
    return gather ? gather_fixed<n>(index, value, count, src, dst, g) \
                  : scatter_fixed<n>(index, value, count, src, dst, g, blocks);
    switch (g.Cout) {
      SNNC_FIXED(16)  // (narrower or odd widths measured no faster than the generic loop)
      SNNC_FIXED(32)
      SNNC_FIXED(64)
      SNNC_FIXED(128)
      default:
        break;
    }
#undef SNNC_FIXED
  }
  if (gather)
    gather_events(index, value, count, src, dst, g);
  else
    scatter_events(index, value, count, src, dst, g);
}

/// Transposes a 16 x 16 tile of floats in registers: row i of the result is column i of
/// `rows` (unpacks within 128-bit lanes, then 128-bit lane shuffles).
__attribute__((target("avx512f"))) inline void transpose_16x16(__m512 r[16]) {
  __m512 t[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; ++i) {  // r[4i + j], lane L: rows 4i..4i+3 of column 4L + j
    const __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 2]);
    const __m512d c = _mm512_castps_pd(t[4 * i + 1]), d = _mm512_castps_pd(t[4 * i + 3]);
    r[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, b));
    r[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, b));
    r[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(c, d));
    r[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(c, d));
  }
  for (int j = 0; j < 4; ++j) {
    const __m512 a0 = _mm512_shuffle_f32x4(r[j], r[4 + j], 0x88);
    const __m512 a1 = _mm512_shuffle_f32x4(r[j], r[4 + j], 0xdd);
    const __m512 a2 = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0x88);
    const __m512 a3 = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0xdd);
    t[j] = _mm512_shuffle_f32x4(a0, a2, 0x88);
    t[4 + j] = _mm512_shuffle_f32x4(a1, a3, 0x88);
    t[8 + j] = _mm512_shuffle_f32x4(a0, a2, 0xdd);
    t[12 + j] = _mm512_shuffle_f32x4(a1, a3, 0xdd);
  }
  for (int i = 0; i < 16; ++i) r[i] = t[i];
}

/// The fused 2x2 max-pool of sample r straight from position-major conv sums (src[p*sp + o],
/// the event path's scratch): per window, 16 channels at a time, the bias added to each of
/// its four values and the first maximum in window order kept (the comparisons of
/// maxpool_2x2_row, so the results equal the unfused pair); the pooled values and winners
/// are then written channel-major.
template <bool kWinners>  // (false: forward-only, no winners kept)
__attribute__((target("avx512f,avx512bw,avx512vl"))) void pool_2x2_position_major(
    const float *src, int64_t sp, const float *b, const Geometry &g, const FusedPool *pool,
    int64_t r) {
  const int64_t PH = (g.OH - 2) / 2 + 1, PW = (g.OW - 2) / 2 + 1, windows = PH * PW;
  const int64_t width = (g.Cout + 15) / 16 * 16;
  // (thread_local buffers named once here: a thread-local access inside the loops is a
  // possible call, around which the compiler spills every vector register)
  thread_local std::vector<float> best_buffer;
  thread_local std::vector<int32_t> at_buffer;
  best_buffer.resize(windows * width);
  at_buffer.resize(kWinners ? windows * width : 0);
  float *best_t = best_buffer.data();
  int32_t *at_t = at_buffer.data();
  for (int64_t c0 = 0; c0 < g.Cout; c0 += 16) {
    const auto lanes =
        static_cast<__mmask16>(g.Cout - c0 >= 16 ? 0xFFFFu : (1u << (g.Cout - c0)) - 1u);
    const __m512 bias = _mm512_maskz_loadu_ps(lanes, b + c0);
    for (int64_t py = 0, q = 0; py < PH; ++py)
      for (int64_t px = 0; px < PW; ++px, ++q) {
        const float *s = src + (2 * py * g.OW + 2 * px) * sp + c0;
        __m512 best = _mm512_add_ps(bias, _mm512_maskz_loadu_ps(lanes, s));
        __m512i at = _mm512_setzero_si512();
        // strictly greater: the first maximum keeps its place (corners 1, 2, 3 in window
        // order; no arrays or lambdas, so nothing is spilled)
        const int64_t step[2] = {(g.OW - 1) * sp, sp};
        const float *p = s;
        for (int k = 1; k < 4; ++k) {
          p += step[k & 1];
          const __m512 v = _mm512_add_ps(bias, _mm512_maskz_loadu_ps(lanes, p));
          const __mmask16 wins = _mm512_cmp_ps_mask(v, best, _CMP_GT_OQ);
          best = _mm512_mask_mov_ps(best, wins, v);
          if (kWinners) at = _mm512_mask_mov_epi32(at, wins, _mm512_set1_epi32(k));
        }
        _mm512_storeu_ps(best_t + q * width + c0, best);
        if (kWinners) _mm512_storeu_si512(at_t + q * width + c0, at);
      }
  }
  // channel-major out: 16 x 16 tiles transposed in registers, the rest element by element
  float *y = pool->y + r * g.Cout * windows;
  Winner *arg = kWinners ? pool->argmax + r * g.Cout * windows : nullptr;
  const int64_t tiled = windows / 16 * 16;
  for (int64_t q0 = 0; q0 < tiled; q0 += 16)
    for (int64_t c0 = 0; c0 < g.Cout; c0 += 16) {
      const int64_t n = std::min<int64_t>(16, g.Cout - c0);
      __m512 tile[16];
      for (int i = 0; i < 16; ++i) tile[i] = _mm512_loadu_ps(best_t + (q0 + i) * width + c0);
      transpose_16x16(tile);
      // (constant trip counts: tile[i] stays in registers; a loop to n spilled all 16)
      float *yc = y + c0 * windows + q0;
      for (int i = 0; i < 16; ++i)
        if (i < n) _mm512_storeu_ps(yc + i * windows, tile[i]);
      if (!kWinners) continue;
      for (int i = 0; i < 16; ++i)
        tile[i] = _mm512_castsi512_ps(_mm512_loadu_si512(at_t + (q0 + i) * width + c0));
      transpose_16x16(tile);
      Winner *ac = arg + c0 * windows + q0;
      for (int i = 0; i < 16; ++i)
        if (i < n)
          _mm_storeu_si128(reinterpret_cast<__m128i *>(ac + i * windows),
                           _mm512_cvtepi32_epi8(_mm512_castps_si512(tile[i])));
    }
  for (int64_t o = 0; o < g.Cout; ++o)
    for (int64_t q = tiled; q < windows; ++q) {
      y[o * windows + q] = best_t[q * width + o];
      if (kWinners) arg[o * windows + q] = static_cast<Winner>(at_t[q * width + o]);
    }
}

const bool kHasAvx512bw = cpu_features().avx512bw_vl;

/// Writes sample r's conv output, whose value at (channel o, position p) before the bias is
/// src[o*so + p*sp]: all of it into y, or only its max-pool into `pool` (through a
/// cache-resident buffer and the same pooling code as a separate max-pool layer, so the
/// results are identical to the unfused pair).
void emit_sample(const float *src, int64_t so, int64_t sp, const float *b, const Geometry &g,
                 float *y, const FusedPool *pool, int64_t r) {
  if (pool && pool->kernel == 2 && so == 1 && kHasAvx512bw && g.OH >= 2 && g.OW >= 2)
    return pool->argmax ? pool_2x2_position_major<true>(src, sp, b, g, pool, r)
                        : pool_2x2_position_major<false>(src, sp, b, g, pool, r);
  const int64_t hw = g.hw();
  thread_local std::vector<float> sample;
  float *yr = y + r * g.Cout * hw;
  if (pool) {
    sample.resize(g.Cout * hw);
    yr = sample.data();
  }
  for (int64_t o = 0; o < g.Cout; ++o)
    for (int64_t p = 0; p < hw; ++p) yr[o * hw + p] = b[o] + src[o * so + p * sp];
  if (!pool) return;
  const int64_t K = pool->kernel, pooled = g.Cout * g.pooled_hw(K);
  maxpool_sample(yr, pool->y + r * pooled, pool->argmax ? pool->argmax + r * pooled : nullptr,
                 g.Cout, g.OH, g.OW, K, K, 0);
}

}  // namespace

void conv2d_forward(const float *x, const float *w, const float *b, float *y, int64_t rows,
                    const std::vector<int64_t> &in_shape, const LayerSpec &l,
                    const FusedPool *pool) {
  const Geometry g = geometry(in_shape, l);
  const int64_t ckk = g.ckk(), hw = g.hw(), in_size = g.in_size();
  parallel_for(chunk_count(rows, kForwardChunk), 1, [&](int64_t ch0, int64_t ch1) {
    thread_local std::vector<float> cols, out;
    for (int64_t ch = ch0; ch < ch1; ++ch) {
      int64_t r0 = ch * kForwardChunk, n = std::min(kForwardChunk, rows - r0), N = n * hw;
      cols.resize(ckk * N);
      out.resize(g.Cout * N);
      for (int64_t j = 0; j < n; ++j) im2col(x + (r0 + j) * in_size, cols.data() + j * hw, N, g);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, g.Cout, N, ckk, 1.f, w, ckk,
                  cols.data(), N, 0.f, out.data(), N);
      for (int64_t j = 0; j < n; ++j) emit_sample(out.data() + j * hw, N, 1, b, g, y, pool, r0 + j);
    }
  });
}

void conv2d_forward_events(const Events &ev, const float *w, const float *b, float *y,
                           const std::vector<int64_t> &in_shape, const LayerSpec &l,
                           const FusedPool *pool, const CellPass *cell, const uint16_t *bits,
                           int64_t bit_words) {
  const Geometry g = geometry(in_shape, l);
  // fewer than 16 output channels are padded to 16 (zero weights) on AVX-512 machines: whole
  // vector rows, no masks or split vectors, in the scatter
  Geometry padded = g;
  if (kHasAvx512 && g.Cout < 16) padded.Cout = 16;
  const int64_t ckk = g.ckk(), hw = g.hw(), width = padded.Cout;
  thread_local AlignedFloats wt_buffer;  // (rows of whole lines from 64-byte boundaries)
  wt_buffer.assign(ckk * width, 0.f);
  float *wt = wt_buffer.data();
  for (int64_t o = 0; o < g.Cout; ++o)
    for (int64_t k = 0; k < ckk; ++k) wt[k * width + o] = w[o * ckk + k];
  // binary samples: output-stationary sums or row-pattern sums where they apply
  std::optional<PaddedRows> rows_of_input;
  std::optional<OutputSums> sums;
  std::optional<PatternSums> patterns;
  const bool use_sums = OutputSums::usable(g, width),
             use_patterns = PatternSums::usable(padded, width);
  if (use_sums || use_patterns) rows_of_input.emplace(padded);
  if (use_sums) sums.emplace(*rows_of_input);
  if (use_patterns) patterns.emplace(*rows_of_input, wt);
  const std::vector<TapBlock> blocks = g.S == 1 ? tap_blocks(padded) : std::vector<TapBlock>();
  // one row's sums (position-major, in acc) emitted as row `at` of y_to / pool_to->y
  auto sum_row = [&](int64_t r, float *acc, float *y_to, const FusedPool *pool_to, int64_t at) {
    const int32_t *index = nullptr;
    const float *value = nullptr;
    int64_t count = 0;
    if (bits) {  // spikes given as bits: the row's events listed from those
      thread_local std::vector<int32_t> bit_index;
      thread_local std::vector<float> bit_value;
      bit_index.resize(static_cast<size_t>(16 * bit_words));
      bit_value.resize(static_cast<size_t>(16 * bit_words));
      count = list_bits(bits + r * bit_words, bit_words, bit_index.data(), bit_value.data());
      index = bit_index.data();
      value = bit_value.data();
    } else {
      index = ev.index.data() + ev.start[r];
      value = ev.value.data() + ev.start[r];
      count = ev.start[r + 1] - ev.start[r];
    }
    const bool binary = rows_of_input && (bits || ev.ones || all_ones(value, count));
    bool summed = binary && sums && sum_outputs(index, count, wt, acc, *sums, width);
    if (!summed && binary && patterns) {
      sum_patterns(index, count, *patterns, acc);
      summed = true;
    }
    if (!summed) {
      std::fill(acc, acc + hw * width, 0.f);
      propagate_events(index, value, count, wt, acc, padded, false,
                       blocks.empty() ? nullptr : blocks.data());
    }
    emit_sample(acc, 1, width, b, g, y_to, pool_to, at);
  };
  if (!cell) {
    parallel_for(ev.rows, 4, [&](int64_t r0, int64_t r1) {
      thread_local AlignedFloats acc_buffer;
      acc_buffer.resize(hw * width);
      float *acc = acc_buffer.data();
      for (int64_t r = r0; r < r1; ++r) sum_row(r, acc, y, pool, r);
    });
    return;
  }
  // with the cell: a sample's T steps into a per-thread buffer, then the cell's scan over them
  const int64_t features = g.Cout * (pool ? g.pooled_hw(pool->kernel) : hw), T = cell->T,
                B = cell->B;
  parallel_for(B, 1, [&](int64_t s0, int64_t s1) {
    thread_local AlignedFloats acc_buffer, steps_buffer, state_buffer;
    acc_buffer.resize(hw * width);
    steps_buffer.resize(T * features);
    state_buffer.resize(std::max<int64_t>(cell->states, 1) * features);
    float *acc = acc_buffer.data(), *steps = steps_buffer.data(), *post = state_buffer.data();
    const FusedPool to_steps = pool ? FusedPool{pool->kernel, steps, nullptr} : FusedPool{};
    for (int64_t s = s0; s < s1; ++s) {
      for (int64_t t = 0; t < T; ++t) sum_row(t * B + s, acc, steps, pool ? &to_steps : nullptr, t);
      cell->forward(steps, cell->out + s * features, post, T, features, features, B * features, 0);
      if (cell->bits)  // (its spikes were just written: in cache)
        for (int64_t t = 0; t < T; ++t)
          spike_bits(cell->out + (t * B + s) * features, features,
                     cell->bits + (t * B + s) * cell->bit_words);
    }
  });
}

void conv2d_backward(const float *x, const float *w, const float *g_y, float *g_x, float *g_w,
                     float *g_b, int64_t rows, const std::vector<int64_t> &in_shape,
                     const LayerSpec &l, const Events *ev, const FusedPoolGrad *pool) {
  const Geometry g = geometry(in_shape, l);
  const int64_t ckk = g.ckk(), hw = g.hw(), in_size = g.in_size(), Cout = g.Cout;
  const int64_t chunks = chunk_count(rows, kRowChunk), wsize = Cout * ckk;
  // per group of kPartialGroup chunks (fixed, whatever the threads): a weight-gradient
  // partial ([Cout][ckk] dense, [ckk][Cout] from events) and a bias partial that its chunks
  // add to in order; the groups' partials are summed in order below
  const int64_t groups = chunk_count(chunks, kPartialGroup);
  thread_local std::vector<float> partial_buffer;
  partial_buffer.assign(groups * (wsize + Cout), 0.f);
  float *partials = partial_buffer.data();
  thread_local std::vector<float> w_t_buffer;  // w as [Cout][K][K][C] (input gradient by position)
  w_t_buffer.resize(g_x ? wsize : 0);
  for (int64_t o = 0; g_x && o < Cout; ++o)
    for (int64_t c = 0; c < g.C; ++c)
      for (int64_t t = 0; t < g.K * g.K; ++t)
        w_t_buffer[(o * g.K * g.K + t) * g.C + c] = w[(o * g.C + c) * g.K * g.K + t];
  const float *w_t = w_t_buffer.data();
  parallel_for(groups, 1, [&](int64_t q0, int64_t q1) {
    thread_local std::vector<float> G, cols, g_t;
    thread_local std::vector<int32_t> winners;
    for (int64_t ch = q0 * kPartialGroup; ch < std::min(chunks, q1 * kPartialGroup); ++ch) {
      int64_t r0 = ch * kRowChunk, n = std::min(kRowChunk, rows - r0), N = n * hw;
      float *pw = partials + ch / kPartialGroup * (wsize + Cout), *pb = pw + wsize;
      // G[o][j*hw + p] = d loss / d conv output [r0 + j][o][p], needed by the GEMMs; the
      // event-driven weight gradient alone works from position-major rows built directly
      const bool need_G = !ev || g_x;
      const int64_t K = pool ? pool->kernel : 0;
      const int64_t per_channel = pool ? g.pooled_hw(K) : 0;
      const int64_t pooled = Cout * per_channel;
      if (pool) {  // the chunk's winners as conv output indices, once for both routings
        winners.resize(n * pooled);
        for (int64_t j = 0; j < n; ++j)
          winner_indices(pool->argmax + (r0 + j) * pooled, winners.data() + j * pooled, Cout, g.OH,
                         g.OW, K, K, 0);
      }
      // sample j's pooled gradients added at their winners: channel o, position p of the
      // conv output at dst[o*o_stride + p*p_stride] (the winners of channel o lie in its plane)
      auto route = [&](int64_t j, float *dst, int64_t o_stride, int64_t p_stride) {
        const float *gp = pool->g_y + (r0 + j) * pooled;
        const int32_t *am = winners.data() + j * pooled;
        for (int64_t o = 0, k = 0; o < Cout; ++o)
          for (int64_t q = 0; q < per_channel; ++q, ++k)
            if (am[k] >= 0) dst[o * o_stride + (am[k] - o * hw) * p_stride] += gp[k];
      };
      if (need_G) {
        G.resize(Cout * N);
        if (pool) std::fill(G.begin(), G.end(), 0.f);
        for (int64_t j = 0; j < n; ++j)
          if (pool)
            route(j, G.data() + j * hw, N, 1);
          else
            for (int64_t o = 0; o < Cout; ++o) {
              const float *src = g_y + ((r0 + j) * Cout + o) * hw;
              std::copy(src, src + hw, G.data() + o * N + j * hw);
            }
      }
      for (int64_t o = 0; o < Cout && need_G; ++o) {
        // 16 interleaved partial sums (vectorizes, no long dependency chain), then in order
        float part[16] = {};
        const float *row = G.data() + o * N;
        int64_t k = 0;
        for (; k + 16 <= N; k += 16)
          for (int q = 0; q < 16; ++q) part[q] += row[k + q];
        float s = 0.f;
        for (int q = 0; q < 16; ++q) s += part[q];
        for (; k < N; ++k) s += row[k];
        pb[o] += s;
      }
      // G's density picks the input gradient's algorithm (the same G, fused or not: the same
      // result): by output position from position-major rows when mostly zero, else a GEMM.
      // Behind a fused pool at most one in K*K entries is nonzero: no need to count.
      int64_t nonzero = 0;
      const bool counted = g_x && !(pool && K >= 2);
      for (int64_t k = 0; counted && k < Cout * N; ++k) nonzero += G[k] != 0.f;
      const bool sparse_input_grad = g_x && (!counted || 2 * nonzero < Cout * N);
      if (!ev) {
        cols.resize(ckk * N);
        for (int64_t j = 0; j < n; ++j) im2col(x + (r0 + j) * in_size, cols.data() + j * hw, N, g);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Cout, ckk, N, 1.f, G.data(), N,
                    cols.data(), N, 1.f, pw, ckk);
      }
      if (ev || sparse_input_grad) {  // per sample, from its gradient [position][Cout]
        g_t.resize(hw * Cout);
        for (int64_t j = 0; j < n; ++j) {
          int64_t r = r0 + j;
          if (pool) {  // route the pooled gradients straight to their winners (as into G)
            std::fill(g_t.begin(), g_t.end(), 0.f);
            route(j, g_t.data(), 1, Cout);
          } else {
            for (int64_t o = 0; o < Cout; ++o)
              for (int64_t p = 0; p < hw; ++p)
                g_t[p * Cout + o] = need_G ? G[o * N + j * hw + p] : g_y[(r * Cout + o) * hw + p];
          }
          if (!need_G)  // the bias gradient, each channel summed in position order
            for (int64_t p = 0; p < hw; ++p)
              for (int64_t o = 0; o < Cout; ++o) pb[o] += g_t[p * Cout + o];
          if (ev)
            propagate_events(ev->index.data() + ev->start[r], ev->value.data() + ev->start[r],
                             ev->start[r + 1] - ev->start[r], g_t.data(), pw, g, true);
          if (sparse_input_grad) input_grad_by_position(w_t, g_t.data(), g_x + r * in_size, g);
        }
      }
      if (g_x && !sparse_input_grad) {
        cols.resize(ckk * N);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, ckk, N, Cout, 1.f, w, ckk, G.data(), N,
                    0.f, cols.data(), N);
        for (int64_t j = 0; j < n; ++j)
          col2im(cols.data() + j * hw, N, g_x + (r0 + j) * in_size, g);
      }
    }
  });
  parallel_for(wsize, 256, [&](int64_t k0, int64_t k1) {
    for (int64_t k = k0; k < k1; ++k) {  // k indexes g_w as [o][tap]
      int64_t at = ev ? (k % ckk) * Cout + k / ckk : k;
      float s = 0.f;
      for (int64_t q = 0; q < groups; ++q) s += partials[q * (wsize + Cout) + at];
      g_w[k] += s;
    }
  });
  for (int64_t o = 0; o < Cout; ++o) {
    float s = 0.f;
    for (int64_t q = 0; q < groups; ++q) s += partials[q * (wsize + Cout) + wsize + o];
    g_b[o] += s;
  }
}

}  // namespace snnc::rt::nn
