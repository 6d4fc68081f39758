// ConvSums.cpp — the output-stationary and row-pattern event conv sums (see ConvSums.h).
#include "ConvSums.h"

#include "CpuFeatures.h"

#include <immintrin.h>

#include <algorithm>

namespace snnc::rt::nn {
namespace {

const bool kHasAvx512 = cpu_features().avx512f;
const bool kHasVbmi2 = cpu_features().avx512vbmi2;

template <int K, int NB>
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vbmi2"))) void sum_outputs_k(
    const int32_t *index, int64_t count, const float *__restrict wt, float *__restrict acc,
    const OutputSums &os) {
  const Geometry &g = os.rows.g;
  constexpr int G = 32 / K;  // pieces (K-tap rows of one channel) per 32-lane group
  constexpr int N = 16 * NB;
  const int64_t rows_n = g.C * os.rows.HP, pieces_n = g.C * K, OW = g.OW;
  // (thread_local buffers named once, outside the loops: see pool_2x2_position_major)
  thread_local std::vector<uint32_t> rows_buffer;
  thread_local std::vector<uint16_t> pieces_buffer, list_buffer;
  thread_local std::vector<uint32_t> masks_buffer;
  const int64_t groups = (pieces_n + G - 1) / G, OW8 = (OW + 7) / 8 * 8;
  rows_buffer.resize(rows_n);
  // (then zero rows for whole groups, and 8 more for whole vectors of 8 columns)
  pieces_buffer.assign((rows_n + os.rows.HP) * OW + 8, 0);
  list_buffer.resize(pieces_n * K + 32);
  masks_buffer.resize(groups * OW8);
  uint32_t *rows = rows_buffer.data(), *masks = masks_buffer.data();
  uint16_t *pieces = pieces_buffer.data(), *list = list_buffer.data();
  const int32_t *piece_offset = os.piece_offset.data();
  const uint16_t *group_taps = os.group_taps.data();
  os.rows.mark(index, count, rows);
  // pieces[row][ox]: the K bits of padded input row `row` that output column ox reads
  for (int64_t r = 0; r < rows_n; ++r)
    for (int64_t ox = 0; ox < OW; ++ox)
      pieces[r * OW + ox] = static_cast<uint16_t>((rows[r] >> ox) & ((1u << K) - 1));
  for (int64_t oy = 0; oy < g.OH; ++oy) {
    // masks[j][ox]: group j's candidate taps of output (oy, ox), its G pieces (rows oy + ky
    // of their channels) shifted into place, 8 columns per vector
    for (int64_t j = 0; j < groups; ++j)
      for (int64_t ox0 = 0; ox0 < OW; ox0 += 8) {
        __m256i m = _mm256_setzero_si256();
        for (int q = 0; q < G; ++q) {  // (piece_offset is padded with a zero piece's offset)
          const uint16_t *src = pieces + piece_offset[j * G + q] + oy * OW + ox0;
          const __m256i piece =
              _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i *>(src)));
          m = _mm256_or_si256(m, _mm256_slli_epi32(piece, q * K));
        }
        _mm256_storeu_si256(reinterpret_cast<__m256i *>(masks + j * OW8 + ox0), m);
      }
    for (int64_t ox = 0; ox < OW; ++ox) {
      int64_t n = 0;
      for (int64_t j = 0; j < pieces_n; j += G) {
        const uint32_t m = masks[j / G * OW8 + ox];
        // the taps j*K + lane whose bit is set
        const __m512i taps = _mm512_loadu_si512(group_taps + j / G * 32);
        _mm512_storeu_si512(list + n, _mm512_maskz_compress_epi16(static_cast<__mmask32>(m), taps));
        n += __builtin_popcount(m);
      }
      __m512 sum[NB];
      for (int b = 0; b < NB; ++b) sum[b] = _mm512_setzero_ps();
      for (int64_t t = 0; t < n; ++t) {
        const float *w = wt + static_cast<int64_t>(list[t]) * N;
        for (int b = 0; b < NB; ++b) sum[b] = _mm512_add_ps(sum[b], _mm512_load_ps(w + 16 * b));
      }
      float *out = acc + (oy * OW + ox) * N;
      for (int b = 0; b < NB; ++b) _mm512_store_ps(out + 16 * b, sum[b]);
    }
  }
}

__attribute__((target("avx512f"))) void sum_patterns_avx512(const int32_t *index, int64_t count,
                                                            const PatternSums &ps, float *acc) {
  const Geometry &g = ps.rows.g;
  const int64_t CK = g.C * g.K, OW = g.OW, OW16 = (OW + 15) / 16 * 16;
  // (thread_local buffers named once, outside the loops: see pool_2x2_position_major)
  thread_local std::vector<uint32_t> rows_buffer;
  thread_local std::vector<int32_t> offsets_buffer;
  rows_buffer.resize(g.C * ps.rows.HP);
  offsets_buffer.resize(CK * OW16);
  uint32_t *rows = rows_buffer.data();
  int32_t *offsets = offsets_buffer.data();
  const int32_t *row_of = ps.row_of.data();
  const float *table = ps.table.data();
  ps.rows.mark(index, count, rows);
  const __m512i lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i pattern_bits = _mm512_set1_epi32((1 << g.K) - 1);
  for (int64_t oy = 0; oy < g.OH; ++oy) {
    // offsets[j][ox]: the table row (in floats) of (c, ky) = j for output column ox
    for (int64_t j = 0; j < CK; ++j) {
      const __m512i m = _mm512_set1_epi32(static_cast<int32_t>(rows[row_of[j] + oy]));
      const __m512i base = _mm512_set1_epi32(static_cast<int32_t>(j << g.K));
      for (int64_t ox0 = 0; ox0 < OW; ox0 += 16) {
        const __m512i shift = _mm512_add_epi32(lanes, _mm512_set1_epi32(static_cast<int32_t>(ox0)));
        const __m512i p = _mm512_and_si512(_mm512_srlv_epi32(m, shift), pattern_bits);
        _mm512_storeu_si512(offsets + j * OW16 + ox0,
                            _mm512_slli_epi32(_mm512_add_epi32(p, base), 4));
      }
    }
    for (int64_t ox = 0; ox < OW; ++ox) {
      __m512 sum = _mm512_setzero_ps();
      for (int64_t j = 0; j < CK; ++j)
        sum = _mm512_add_ps(sum, _mm512_load_ps(table + offsets[j * OW16 + ox]));
      _mm512_store_ps(acc + (oy * OW + ox) * 16, sum);
    }
  }
}

}  // namespace

PaddedRows::PaddedRows(const Geometry &geom) : g(geom), HP(geom.H + 2 * geom.P) {
  place.resize(g.in_size());
  for (int64_t c = 0; c < g.C; ++c)
    for (int64_t iy = 0; iy < g.H; ++iy)
      for (int64_t ix = 0; ix < g.W; ++ix)
        place[(c * g.H + iy) * g.W + ix] =
            static_cast<int32_t>(((c * HP + iy + g.P) << 5) | (ix + g.P));
}

void PaddedRows::mark(const int32_t *index, int64_t count, uint32_t *rows) const {
  std::fill(rows, rows + g.C * HP, 0u);
  for (int64_t e = 0; e < count; ++e) {
    const int32_t at = place[index[e]];
    rows[at >> 5] |= 1u << (at & 31);
  }
}

bool all_ones(const float *value, int64_t count) {
  for (int64_t e = 0; e < count; ++e)
    if (value[e] != 1.f) return false;
  return true;
}

OutputSums::OutputSums(const PaddedRows &padded_rows) : rows(padded_rows) {
  const Geometry &g = rows.g;
  const int64_t HP = rows.HP, zero_row = g.C * HP;  // pieces (zero_row + oy) * OW + ox read zeros
  piece_offset.assign(g.C * g.K + 16, static_cast<int32_t>(zero_row * g.OW));
  for (int64_t c = 0; c < g.C; ++c)
    for (int64_t ky = 0; ky < g.K; ++ky)
      piece_offset[c * g.K + ky] = static_cast<int32_t>((c * HP + ky) * g.OW);
  const int64_t G = 32 / g.K, groups = (g.C * g.K + G - 1) / G;
  group_taps.resize(groups * 32);
  for (int64_t j = 0; j < groups; ++j)
    for (int64_t lane = 0; lane < 32; ++lane)
      group_taps[j * 32 + lane] =
          static_cast<uint16_t>(std::min<int64_t>(j * G * g.K + lane, 65535));
}

bool OutputSums::usable(const Geometry &g, int64_t width) {
  if (!kHasVbmi2) return false;
  const int64_t nb = width / 16;
  return g.S == 1 && g.W + 2 * g.P <= 32 && (g.K == 3 || g.K == 5) && width % 16 == 0 &&
         (nb == 1 || nb == 2 || nb == 4 || nb == 8) && g.ckk() < 65535;
}

bool sum_outputs(const int32_t *index, int64_t count, const float *wt, float *acc,
                 const OutputSums &os, int64_t width) {
  const Geometry &g = os.rows.g;
  if (count * g.K * g.K < 16 * g.hw()) return false;  // under ~16 taps per output
#define SNNC_SUM(k, nb)                              \
  if (g.K == k && width == 16 * nb) {                \
    sum_outputs_k<k, nb>(index, count, wt, acc, os); \
    return true;                                     \
  }
  SNNC_SUM(5, 1)
  SNNC_SUM(5, 2)
  SNNC_SUM(5, 4)
  SNNC_SUM(5, 8)
  SNNC_SUM(3, 1)
  SNNC_SUM(3, 2)
  SNNC_SUM(3, 4)
  SNNC_SUM(3, 8)
#undef SNNC_SUM
  return false;
}

PatternSums::PatternSums(const PaddedRows &padded_rows, const float *wt) : rows(padded_rows) {
  const Geometry &g = rows.g;
  const int64_t HP = rows.HP, patterns = int64_t{1} << g.K;
  row_of.resize(g.C * g.K);
  table.assign(g.C * g.K * patterns * 16, 0.f);
  for (int64_t c = 0; c < g.C; ++c)
    for (int64_t ky = 0; ky < g.K; ++ky) {
      const int64_t j = c * g.K + ky;
      row_of[j] = static_cast<int32_t>(c * HP + ky);
      float *t = table.data() + j * patterns * 16;
      for (int64_t p = 1; p < patterns; ++p) {  // the highest tap added to the pattern without it
        const int h = 31 - __builtin_clz(static_cast<uint32_t>(p));
        const float *rest = t + (p ^ (int64_t{1} << h)) * 16, *w = wt + (j * g.K + h) * 16;
        for (int o = 0; o < 16; ++o) t[p * 16 + o] = rest[o] + w[o];
      }
    }
}

bool PatternSums::usable(const Geometry &g, int64_t width) {
  if (!kHasAvx512) return false;
  return g.S == 1 && g.W + 2 * g.P <= 32 && g.K <= 5 && width == 16 &&
         g.C * g.K * (int64_t{1} << g.K) * 16 * 4 <= 16384;  // (the table stays in L1)
}

void sum_patterns(const int32_t *index, int64_t count, const PatternSums &ps, float *acc) {
  sum_patterns_avx512(index, count, ps, acc);
}

}  // namespace snnc::rt::nn
