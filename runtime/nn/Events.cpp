// Events.cpp — counting and listing the nonzeros of an activation, rows split between
// threads. With AVX-512, 16 elements per instruction: a compare mask, its population count,
// and compressed stores of the indices and values that passed.
#include "Events.h"

#include "CpuFeatures.h"

#include <immintrin.h>

#include <algorithm>
#include <atomic>

#include "Parallel.h"

namespace snnc::rt::nn {
namespace {

const bool kHasAvx512 = cpu_features().avx512f;

/// The nonzeros of a row; `other` is set where one of them is not 1.
__attribute__((target("avx512f,popcnt"))) int64_t count_row_avx512(const float *row, int64_t width,
                                                                   bool &other) {
  int64_t n = 0, k = 0;
  const __m512 zero = _mm512_setzero_ps(), one = _mm512_set1_ps(1.f);
  __mmask16 not_one = 0;
  for (; k + 16 <= width; k += 16) {
    const __m512 v = _mm512_loadu_ps(row + k);
    const __mmask16 nonzero = _mm512_cmp_ps_mask(v, zero, _CMP_NEQ_UQ);
    n += __builtin_popcount(nonzero);
    not_one |= _mm512_mask_cmp_ps_mask(nonzero, v, one, _CMP_NEQ_UQ);
  }
  for (; k < width; ++k) {
    n += row[k] != 0.f;
    not_one |= row[k] != 0.f && row[k] != 1.f;
  }
  if (not_one) other = true;
  return n;
}

int64_t count_row(const float *row, int64_t width, bool &other) {
  int64_t n = 0;
  for (int64_t k = 0; k < width; ++k) {
    n += row[k] != 0.f;
    if (row[k] != 0.f && row[k] != 1.f) other = true;
  }
  return n;
}

__attribute__((target("avx512f"))) int64_t fill_row_avx512(const float *row, int64_t width,
                                                           int32_t *index, float *value) {
  const int32_t *first_index = index;
  int64_t k = 0;
  __m512i at = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i step = _mm512_set1_epi32(16);
  const __m512 zero = _mm512_setzero_ps();
  for (; k + 16 <= width; k += 16) {
    __m512 v = _mm512_loadu_ps(row + k);
    __mmask16 m = _mm512_cmp_ps_mask(v, zero, _CMP_NEQ_UQ);
    // compress in a register, then a masked store: a compress straight to memory is
    // microcoded on AMD Zen 4 (tens of times slower than this pair)
    int c = __builtin_popcount(m);
    const __mmask16 first = static_cast<__mmask16>((1u << c) - 1u);
    _mm512_mask_storeu_epi32(index, first, _mm512_maskz_compress_epi32(m, at));
    _mm512_mask_storeu_ps(value, first, _mm512_maskz_compress_ps(m, v));
    index += c;
    value += c;
    at = _mm512_add_epi32(at, step);
  }
  for (; k < width; ++k)
    if (row[k] != 0.f) {
      *index++ = static_cast<int32_t>(k);
      *value++ = row[k];
    }
  return index - first_index;
}

int64_t fill_row(const float *row, int64_t width, int32_t *index, float *value) {
  const int32_t *first_index = index;
  for (int64_t k = 0; k < width; ++k)
    if (row[k] != 0.f) {
      *index++ = static_cast<int32_t>(k);
      *value++ = row[k];
    }
  return index - first_index;
}

/// AVX-512: spike_bits.
__attribute__((target("avx512f"))) void spike_bits_avx512(const float *row, int64_t width,
                                                          uint16_t *bits) {
  const __m512 zero = _mm512_setzero_ps();
  for (int64_t k = 0; 16 * k < width; ++k) {
    const int64_t lanes = std::min<int64_t>(16, width - 16 * k);
    const auto mask = static_cast<__mmask16>((1u << lanes) - 1u);
    bits[k] =
        _mm512_mask_cmp_ps_mask(mask, _mm512_maskz_loadu_ps(mask, row + 16 * k), zero, _CMP_NEQ_UQ);
  }
}

/// AVX-512: the inputs whose bits are set (words of 16, ascending) into index, a 1 for each
/// into value; returns how many.
__attribute__((target("avx512f,popcnt"))) int64_t list_bits_avx512(const uint16_t *bits,
                                                                   int64_t words, int32_t *index,
                                                                   float *value) {
  const int32_t *first_index = index;
  __m512i at = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i step = _mm512_set1_epi32(16);
  const __m512 ones = _mm512_set1_ps(1.f);
  for (int64_t k = 0; k < words; ++k, at = _mm512_add_epi32(at, step)) {
    const __mmask16 m = bits[k];
    if (!m) continue;
    const int c = __builtin_popcount(m);
    const auto first = static_cast<__mmask16>((1u << c) - 1u);
    _mm512_mask_storeu_epi32(index, first, _mm512_maskz_compress_epi32(m, at));
    _mm512_mask_storeu_ps(value, first, ones);
    index += c;
    value += c;
  }
  return index - first_index;
}

}  // namespace

int64_t list_bits(const uint16_t *bits, int64_t words, int32_t *index, float *value) {
  if (kHasAvx512) return list_bits_avx512(bits, words, index, value);
  int64_t n = 0;
  for (int64_t k = 0; k < words; ++k)
    for (int j = 0; j < 16; ++j)
      if (bits[k] >> j & 1u) {
        index[n] = static_cast<int32_t>(16 * k + j);
        value[n++] = 1.f;
      }
  return n;
}

void spike_bits(const float *row, int64_t width, uint16_t *bits) {
  if (kHasAvx512) return spike_bits_avx512(row, width, bits);
  for (int64_t k = 0; 16 * k < width; ++k) {
    uint16_t word = 0;
    for (int64_t j = 0; j < 16 && 16 * k + j < width; ++j)
      if (row[16 * k + j] != 0.f) word = static_cast<uint16_t>(word | (1u << j));
    bits[k] = word;
  }
}

int64_t compress_row(const float *row, int64_t width, int32_t *index, float *value) {
  return kHasAvx512 ? fill_row_avx512(row, width, index, value)
                    : fill_row(row, width, index, value);
}

int64_t count_events(const float *x, int64_t rows, int64_t width, Events &ev) {
  ev.rows = rows;
  ev.width = width;
  ev.start.assign(rows + 1, 0);
  std::atomic<bool> other{false};
  parallel_for(rows, 16, [&](int64_t r0, int64_t r1) {
    bool not_one = false;
    for (int64_t r = r0; r < r1; ++r)
      ev.start[r + 1] = kHasAvx512 ? count_row_avx512(x + r * width, width, not_one)
                                   : count_row(x + r * width, width, not_one);
    if (not_one) other = true;
  });
  ev.ones = !other;
  for (int64_t r = 0; r < rows; ++r) ev.start[r + 1] += ev.start[r];
  return ev.start[rows];
}

int64_t count_bits(const uint16_t *bits, int64_t rows, int64_t width, int64_t words, Events &ev) {
  ev.rows = rows;
  ev.width = width;
  ev.start.assign(rows + 1, 0);
  ev.index.clear();
  ev.value.clear();
  ev.ones = true;
  parallel_for(rows, 64, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      int64_t n = 0;
      for (int64_t k = 0; k < words; ++k) n += __builtin_popcount(bits[r * words + k]);
      ev.start[r + 1] = n;
    }
  });
  for (int64_t r = 0; r < rows; ++r) ev.start[r + 1] += ev.start[r];
  return ev.start[rows];
}

void fill_events(const float *x, Events &ev) {
  ev.index.resize(ev.count());
  ev.value.resize(ev.count());
  parallel_for(ev.rows, 16, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      compress_row(x + r * ev.width, ev.width, ev.index.data() + ev.start[r],
                   ev.value.data() + ev.start[r]);
    }
  });
}

}  // namespace snnc::rt::nn
