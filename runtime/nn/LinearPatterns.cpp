// LinearPatterns.cpp — pattern tables for event-driven linear sums of spike inputs (see
// LinearPatterns.h): listing each row's nonzero groups, building a block's table, and the
// AVX-512 sums of table rows.
#include "LinearPatterns.h"

#include "CpuFeatures.h"

#include <immintrin.h>

#include <algorithm>
#include <atomic>

#include "Parallel.h"

namespace snnc::rt::nn {
namespace {

const bool kHasAvx512 = cpu_features().avx512f;

/// Inputs of at most this many groups: a table (groups * 16 rows of 128 bytes) of at most
/// 512 KB, half of a 1 MB L2.
constexpr int64_t kMaxGroups = 256;
static_assert(kMaxGroups * kPatterns <= 65536, "table rows are numbered in 16 bits");

}  // namespace

bool may_list_patterns(int64_t rows, int64_t width) {
  return kHasAvx512 && rows >= 512 && (width + kPatternBits - 1) / kPatternBits <= kMaxGroups;
}

bool use_linear_patterns(const Events &ev) {
  // (measured on the FC benchmark's hidden layer, 784 inputs at 12 %: the tables are rebuilt
  // for every pass, 32 blocks for 1000 outputs, so a batch needs hundreds of rows; at a
  // density of a few percent nearly every nonzero group holds one spike and nothing is saved)
  return may_list_patterns(ev.rows, ev.width) && ev.ones && ev.density() >= 0.04;
}

bool use_pattern_weight_grad(const Events &ev) {
  return kHasAvx512 && ev.ones && ev.rows >= 512 && ev.density() >= 0.04;
}

int64_t patterns_of(const int32_t *index, int64_t n, uint16_t *out) {
  // (indices ascend: a group's members are adjacent) branch-free: every index rewrites its
  // group's entry, and a new group moves to the next one
  int64_t m = 0;
  int32_t group = -1, pattern = 0;
  for (int64_t e = 0; e < n; ++e) {
    const int32_t g = index[e] / kPatternBits, bit = 1 << (index[e] % kPatternBits);
    const bool next = g != group;
    m += next;
    pattern = next ? bit : pattern | bit;
    group = g;
    out[m - 1] = static_cast<uint16_t>(g * kPatterns + pattern);
  }
  return m;
}

void list_patterns(const Events &ev, PatternLists &lists) {
  lists.entry.resize(static_cast<size_t>(ev.count()));
  lists.count.resize(static_cast<size_t>(ev.rows));
  lists.start.assign(ev.start.begin(), ev.start.begin() + ev.rows);
  parallel_for(ev.rows, 64, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r)
      lists.count[r] = static_cast<int32_t>(patterns_of(ev.index.data() + ev.start[r],
                                                        ev.start[r + 1] - ev.start[r],
                                                        lists.entry.data() + ev.start[r]));
  });
}

namespace {
/// AVX-512: one row's nonzeros counted (`not_one` set if any is not 1) and its groups listed
/// into out (16 inputs, four groups, per vector: each group's entry written, the next one
/// moved to only if it has a spike); returns the number of nonzeros, *listed the entries.
__attribute__((target("avx512f,popcnt"))) int64_t count_and_list_row(const float *row,
                                                                     int64_t width, uint16_t *out,
                                                                     int32_t *listed,
                                                                     bool &not_one) {
  const __m512 zero = _mm512_setzero_ps(), one = _mm512_set1_ps(1.f);
  int64_t nonzero = 0, m = 0;
  for (int64_t k = 0; k < width; k += 16) {
    const int64_t lanes = std::min<int64_t>(16, width - k);
    const auto mask = static_cast<__mmask16>(lanes == 16 ? 0xffffu : (1u << lanes) - 1u);
    const __m512 v = _mm512_maskz_loadu_ps(mask, row + k);
    const __mmask16 bits = _mm512_mask_cmp_ps_mask(mask, v, zero, _CMP_NEQ_UQ);
    if (_mm512_mask_cmp_ps_mask(bits, v, one, _CMP_NEQ_UQ)) not_one = true;
    nonzero += __builtin_popcount(bits);
    const auto group = static_cast<uint16_t>(k / kPatternBits * kPatterns);
    for (int j = 0; j < 16 / kPatternBits; ++j) {
      const unsigned pattern = (bits >> (kPatternBits * j)) & (kPatterns - 1u);
      out[m] = static_cast<uint16_t>(group + j * kPatterns + pattern);
      m += pattern != 0;
    }
  }
  *listed = static_cast<int32_t>(m);
  return nonzero;
}
}  // namespace

int64_t count_and_list_patterns(const float *x, int64_t rows, int64_t width, Events &ev,
                                PatternLists &lists) {
  const int64_t groups = (width + kPatternBits - 1) / kPatternBits;
  ev.rows = rows;
  ev.width = width;
  ev.start.assign(rows + 1, 0);
  ev.index.clear();
  ev.value.clear();
  // (room for every group of a row, and for the entry a last vector writes past its groups)
  const int64_t room = groups + 16 / kPatternBits;
  lists.entry.resize(static_cast<size_t>(rows * room));
  lists.count.resize(static_cast<size_t>(rows));
  lists.start.resize(static_cast<size_t>(rows));
  std::atomic<bool> other{false};
  parallel_for(rows, 16, [&](int64_t r0, int64_t r1) {
    // each thread's rows packed one after the other from r0's room on (the sums read them
    // again for every block of columns: compact, they stay in cache)
    bool not_one = false;
    int64_t at = r0 * room;
    for (int64_t r = r0; r < r1; ++r) {
      lists.start[r] = at;
      ev.start[r + 1] = count_and_list_row(x + r * width, width, lists.entry.data() + at,
                                           lists.count.data() + r, not_one);
      at += lists.count[r];
    }
    if (not_one) other = true;
  });
  ev.ones = !other;
  for (int64_t r = 0; r < rows; ++r) ev.start[r + 1] += ev.start[r];
  return ev.start[rows];
}

__attribute__((target("avx512f"))) void build_pattern_table(const float *wt, int64_t ld, int64_t in,
                                                            int64_t o0, int64_t width,
                                                            AlignedFloats &table) {
  const int64_t groups = (in + kPatternBits - 1) / kPatternBits;
  table.resize(static_cast<size_t>(groups * kPatterns * kPatternColumns));
  const auto lo = static_cast<__mmask16>(width >= 16 ? 0xffffu : (1u << width) - 1u);
  const auto hi = static_cast<__mmask16>(width >= 32  ? 0xffffu
                                         : width > 16 ? (1u << (width - 16)) - 1u
                                                      : 0u);
  for (int64_t g = 0; g < groups; ++g) {
    float *t = table.data() + g * kPatterns * kPatternColumns;
    __m512 row_lo[kPatternBits], row_hi[kPatternBits];
    for (int j = 0; j < kPatternBits; ++j) {
      const int64_t i = g * kPatternBits + j;
      const float *w = wt + i * ld + o0;
      row_lo[j] = i < in ? _mm512_maskz_loadu_ps(lo, w) : _mm512_setzero_ps();
      row_hi[j] = i < in ? _mm512_maskz_loadu_ps(hi, w + 16) : _mm512_setzero_ps();
    }
    _mm512_store_ps(t, _mm512_setzero_ps());
    _mm512_store_ps(t + 16, _mm512_setzero_ps());
    for (int p = 1; p < kPatterns; ++p) {  // the lowest input of p added to p's other inputs
      const int j = __builtin_ctz(static_cast<unsigned>(p));
      const float *rest = t + (p & (p - 1)) * kPatternColumns;
      _mm512_store_ps(t + p * kPatternColumns, _mm512_add_ps(_mm512_load_ps(rest), row_lo[j]));
      _mm512_store_ps(t + p * kPatternColumns + 16,
                      _mm512_add_ps(_mm512_load_ps(rest + 16), row_hi[j]));
    }
  }
}

__attribute__((target("avx512f"))) void pattern_sums(const uint16_t *entries, int64_t n,
                                                     const float *table, const float *b, float *y,
                                                     int64_t width) {
  const auto lo = static_cast<__mmask16>(width >= 16 ? 0xffffu : (1u << width) - 1u);
  const auto hi = static_cast<__mmask16>(width >= 32  ? 0xffffu
                                         : width > 16 ? (1u << (width - 16)) - 1u
                                                      : 0u);
  __m512 a0 = b ? _mm512_maskz_loadu_ps(lo, b) : _mm512_setzero_ps();
  __m512 a1 = b ? _mm512_maskz_loadu_ps(hi, b + 16) : _mm512_setzero_ps();
  __m512 c0 = _mm512_setzero_ps(), c1 = _mm512_setzero_ps();
  int64_t e = 0;
  for (; e + 2 <= n; e += 2) {
    const float *p = table + static_cast<int64_t>(entries[e]) * kPatternColumns;
    const float *q = table + static_cast<int64_t>(entries[e + 1]) * kPatternColumns;
    a0 = _mm512_add_ps(a0, _mm512_load_ps(p));
    a1 = _mm512_add_ps(a1, _mm512_load_ps(p + 16));
    c0 = _mm512_add_ps(c0, _mm512_load_ps(q));
    c1 = _mm512_add_ps(c1, _mm512_load_ps(q + 16));
  }
  if (e < n) {
    const float *p = table + static_cast<int64_t>(entries[e]) * kPatternColumns;
    a0 = _mm512_add_ps(a0, _mm512_load_ps(p));
    a1 = _mm512_add_ps(a1, _mm512_load_ps(p + 16));
  }
  _mm512_mask_storeu_ps(y, lo, _mm512_add_ps(a0, c0));
  if (hi) _mm512_mask_storeu_ps(y + 16, hi, _mm512_add_ps(a1, c1));
}

}  // namespace snnc::rt::nn
