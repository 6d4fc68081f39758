// Linear.cpp — fully connected layers: dense GEMMs split into row blocks, and the
// event-driven forward and weight gradient.
#include <cblas.h>
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <stdexcept>
#include <utility>

#include "Aligned.h"

#include "CpuFeatures.h"
#include "LinearPatterns.h"
#include "Ops.h"
#include "Parallel.h"

namespace snnc::rt::nn {
namespace {

constexpr int64_t kOutBlock = 256;  // output columns per pass: keeps wt's block in L2
constexpr int64_t kRowBlock = 256;  // rows per pass of the event weight gradient
static_assert(kRowBlock / kPatternBits * kPatterns <= 65536,
              "a row block's pattern-table rows must be numbered in 16 bits");

/// Parts to split each of `blocks` column blocks into so that every thread has about two
/// items (1 when the blocks alone give that). Which thread computes an item never changes
/// its sums.
int64_t split_for_threads(int64_t blocks) {
  const int64_t want = 2 * static_cast<int64_t>(thread_count());
  return std::max<int64_t>(1, (want + blocks - 1) / blocks);
}

/// Where the event weight gradient's by-input listing of the row block starting at row r0
/// starts: after the events and the bias events (one per row) of the rows before it.
int64_t list_base(const Events &ev, int64_t r0) {
  return ev.start[r0] + r0;
}

__attribute__((target_clones("avx512f", "avx2", "default"))) void axpy(float a,
                                                                       const float *__restrict x,
                                                                       float *__restrict y,
                                                                       int64_t n) {
  for (int64_t k = 0; k < n; ++k) y[k] += a * x[k];
}

/// AVX-512: y[0, 16*NB) = b (0 if null) + sum over the events of value * wt[index][0, 16*NB),
/// with the sums in NB vector registers (one load of each weight slice, no load/store of y
/// per event). The sums run in the same order as on the generic path. kOnes: every value is
/// 1 (spikes; `value` is not read) and each step is an addition, which rounds as the
/// multiply-add by 1 does.
template <int NB, bool kOnes>
__attribute__((target("avx512f"))) void accumulate_avx512(const int32_t *index, const float *value,
                                                          int64_t count, const float *wt,
                                                          int64_t ld, const float *b, float *y) {
  __m512 acc[NB];
  for (int k = 0; k < NB; ++k) acc[k] = b ? _mm512_loadu_ps(b + 16 * k) : _mm512_setzero_ps();
  for (int64_t e = 0; e < count; ++e) {
    const float *w = wt + static_cast<int64_t>(index[e]) * ld;
    if (kOnes) {
      for (int k = 0; k < NB; ++k) acc[k] = _mm512_add_ps(acc[k], _mm512_loadu_ps(w + 16 * k));
    } else {
      const __m512 v = _mm512_set1_ps(value[e]);
      for (int k = 0; k < NB; ++k) acc[k] = _mm512_fmadd_ps(v, _mm512_loadu_ps(w + 16 * k), acc[k]);
    }
  }
  for (int k = 0; k < NB; ++k) _mm512_storeu_ps(y + 16 * k, acc[k]);
}

using AccumulateKernel = void (*)(const int32_t *, const float *, int64_t, const float *, int64_t,
                                  const float *, float *);
template <bool kOnes, int... NB>
constexpr std::array<AccumulateKernel, sizeof...(NB)> accumulate_kernels(
    std::integer_sequence<int, NB...>) {
  return {&accumulate_avx512<NB + 1, kOnes>...};
}
constexpr int kMaxVectors = 16;  // vectors of sums per pass over the events (registers)
constexpr auto kAccumulate =
    accumulate_kernels<false>(std::make_integer_sequence<int, kMaxVectors>());
constexpr auto kAccumulateOnes =
    accumulate_kernels<true>(std::make_integer_sequence<int, kMaxVectors>());

/// The last, partial vector of a row: `lanes` of 16, by masked loads (sums in a register;
/// apart from accumulate_avx512, whose sums GCC spilled in the loop when one was masked).
__attribute__((target("avx512f"))) void accumulate_tail_avx512(const int32_t *index,
                                                               const float *value, int64_t count,
                                                               const float *wt, int64_t ld,
                                                               const float *b, float *y,
                                                               int64_t lanes) {
  const auto mask = static_cast<__mmask16>((1u << lanes) - 1u);
  __m512 acc = b ? _mm512_maskz_loadu_ps(mask, b) : _mm512_setzero_ps();
  for (int64_t e = 0; e < count; ++e) {
    const __m512 w = _mm512_maskz_loadu_ps(mask, wt + static_cast<int64_t>(index[e]) * ld);
    acc = value ? _mm512_fmadd_ps(_mm512_set1_ps(value[e]), w, acc) : _mm512_add_ps(acc, w);
  }
  _mm512_mask_storeu_ps(y, mask, acc);
}

/// AVX-512, rows r0..r1 of a layer of at most 16 outputs: each row's nonzero inputs are
/// listed (compress_row from x, or list_bits from `bits`, `words` per row) and their
/// weight rows (wt: [in][16]) summed in four vector registers (events e, e + 4, ... in each)
/// added to the bias at the end. Returns the number of nonzero inputs. With `keep_index`,
/// each row's list is kept (the next row's written after it; with `keep_values` their values
/// too, else `value` is one row's scratch).
__attribute__((target("avx512f"))) int64_t narrow_rows_avx512(
    const float *x, const uint16_t *bits, int64_t words, const float *wt, const float *b, float *y,
    int64_t r0, int64_t r1, int64_t in, int64_t out, int32_t *index, float *value,
    bool keep_index = false, bool keep_values = false) {
  const auto lanes = static_cast<__mmask16>((1u << out) - 1u);
  const __m512 bias = _mm512_maskz_loadu_ps(lanes, b);
  int64_t nonzero = 0;
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t n = bits ? list_bits(bits + r * words, words, index, value)
                           : compress_row(x + r * in, in, index, value);
    nonzero += n;
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
#define SNNC_ROW(e) _mm512_loadu_ps(wt + static_cast<int64_t>(index[e]) * 16)
    int64_t e = 0;
    for (; e + 4 <= n; e += 4) {
      a0 = _mm512_fmadd_ps(_mm512_set1_ps(value[e]), SNNC_ROW(e), a0);
      a1 = _mm512_fmadd_ps(_mm512_set1_ps(value[e + 1]), SNNC_ROW(e + 1), a1);
      a2 = _mm512_fmadd_ps(_mm512_set1_ps(value[e + 2]), SNNC_ROW(e + 2), a2);
      a3 = _mm512_fmadd_ps(_mm512_set1_ps(value[e + 3]), SNNC_ROW(e + 3), a3);
    }
    for (; e < n; ++e) a0 = _mm512_fmadd_ps(_mm512_set1_ps(value[e]), SNNC_ROW(e), a0);
#undef SNNC_ROW
    const __m512 sum = _mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3));
    _mm512_mask_storeu_ps(y + r * out, lanes, _mm512_add_ps(bias, sum));
    if (keep_index) {  // (the lists kept: the next row's after this one's)
      index += n;
      if (keep_values) value += n;
    }
  }
  return nonzero;
}

/// AVX-512: g_wt[i - i0] ([i1 - i0][16]) += the sum over rows, in order, of x[r][i] * g_y[r]
/// for the nonzero x[r][i] with i0 <= i < i1.
/// (With `listed`, the rows' nonzeros kept by the forward pass instead of listing x again.)
__attribute__((target("avx512f"))) void narrow_weight_grad_avx512(
    const float *x, const Events *listed, const float *g_y, float *g_wt, int64_t rows, int64_t in,
    int64_t out, int64_t i0, int64_t i1, int32_t *index, float *value) {
  const auto lanes = static_cast<__mmask16>((1u << out) - 1u);
  for (int64_t r = 0; r < rows; ++r) {
    const int32_t *first = index;
    const float *values = value;
    int64_t n = 0, base = 0;  // (listed: absolute indices, base i0)
    if (listed) {
      const int32_t *row = listed->index.data() + listed->start[r],
                    *end = listed->index.data() + listed->start[r + 1];
      first = std::lower_bound(row, end, static_cast<int32_t>(i0));
      n = std::lower_bound(first, end, static_cast<int32_t>(i1)) - first;
      values = listed->ones ? nullptr : listed->value.data() + (first - listed->index.data());
      base = i0;
    } else {
      n = compress_row(x + r * in + i0, i1 - i0, index, value);
    }
    if (n == 0) continue;
    const __m512 g = _mm512_maskz_loadu_ps(lanes, g_y + r * out);
    for (int64_t e = 0; e < n; ++e) {  // (no values: spikes, and g + p rounds as 1 * g + p)
      float *p = g_wt + (static_cast<int64_t>(first[e]) - base) * 16;
      _mm512_store_ps(p, values ? _mm512_fmadd_ps(_mm512_set1_ps(values[e]), g, _mm512_load_ps(p))
                                : _mm512_add_ps(g, _mm512_load_ps(p)));
    }
  }
}

const bool kHasAvx512 = cpu_features().avx512f;

}  // namespace

void sum_rows(const int32_t *index, const float *value, int64_t count, const float *rows,
              int64_t ld, const float *init, float *y, int64_t width) {
  if (kHasAvx512) {  // passes of equal whole vectors (1000 columns: 15, 16, 15, 16), then
                     // the partial one
    const int64_t vectors = width / 16, passes = (vectors + kMaxVectors - 1) / kMaxVectors;
    const auto &kernels = value ? kAccumulate : kAccumulateOnes;
    for (int64_t k = 0, v0 = 0; k < passes; ++k) {
      const int64_t v1 = vectors * (k + 1) / passes, o0 = 16 * v0;
      kernels[v1 - v0 - 1](index, value, count, rows + o0, ld, init ? init + o0 : nullptr, y + o0);
      v0 = v1;
    }
    if (width % 16)
      accumulate_tail_avx512(index, value, count, rows + 16 * vectors, ld,
                             init ? init + 16 * vectors : nullptr, y + 16 * vectors, width % 16);
    return;
  }
  if (init && init != y)
    std::copy(init, init + width, y);
  else if (!init)
    std::fill(y, y + width, 0.f);
  for (int64_t e = 0; e < count; ++e)
    axpy(value ? value[e] : 1.f, rows + static_cast<int64_t>(index[e]) * ld, y, width);
}

void linear_forward(const float *x, const float *w, const float *b, float *y, int64_t rows,
                    int64_t in, int64_t out) {
  parallel_for(rows, 16, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) std::copy(b, b + out, y + r * out);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, r1 - r0, out, in, 1.f, x + r0 * in, in, w,
                in, 1.f, y + r0 * out, out);
  });
}

bool narrow_linear(int64_t out) {
  return kHasAvx512 && out >= 1 && out <= 16;
}

namespace {
/// narrow_rows_avx512 over all rows, split between threads (inputs from x, or from `bits`).
int64_t narrow_rows(const float *x, const uint16_t *bits, int64_t words, const float *wt,
                    const float *b, float *y, int64_t rows, int64_t in, int64_t out) {
  std::atomic<int64_t> nonzero{0};
  parallel_for(rows, 16, [&](int64_t r0, int64_t r1) {
    thread_local std::vector<int32_t> index;
    thread_local std::vector<float> value;
    const int64_t room = bits ? 16 * words : in;  // (one row's list)
    index.resize(room);
    value.resize(room);
    nonzero +=
        narrow_rows_avx512(x, bits, words, wt, b, y, r0, r1, in, out, index.data(), value.data());
  });
  return nonzero;
}
}  // namespace

int64_t linear_forward_narrow(const float *x, const float *wt, const float *b, float *y,
                              int64_t rows, int64_t in, int64_t out, Events *keep) {
  if (keep) {  // counted first, then each row listed at its place in the kept lists
    count_events(x, rows, in, *keep);
    keep->index.resize(keep->count());
    keep->value.resize(keep->ones ? 0 : keep->count());  // (spikes: no values kept)
    parallel_for(rows, 16, [&](int64_t r0, int64_t r1) {
      thread_local std::vector<float> value;  // (a row's values when they are not kept)
      value.resize(in);
      const int64_t at = keep->start[r0];
      narrow_rows_avx512(x, nullptr, 0, wt, b, y, r0, r1, in, out, keep->index.data() + at,
                         keep->ones ? value.data() : keep->value.data() + at, true, !keep->ones);
    });
    return keep->count();
  }
  return narrow_rows(x, nullptr, 0, wt, b, y, rows, in, out);
}

int64_t linear_forward_narrow_bits(const uint16_t *bits, int64_t words, const float *wt,
                                   const float *b, float *y, int64_t rows, int64_t in,
                                   int64_t out) {
  return narrow_rows(nullptr, bits, words, wt, b, y, rows, in, out);
}

namespace {
/// The pattern lists of these events: `listed` where the caller made them, else listed here
/// (into the calling thread's buffer).
const PatternLists &pattern_lists(const Events &ev, const PatternLists *listed) {
  if (listed) return *listed;
  thread_local PatternLists lists;
  list_patterns(ev, lists);
  return lists;
}
}  // namespace

void linear_forward_events(const Events &ev, const float *wt, int64_t ld_wt, const float *b,
                           float *y, int64_t out, const PatternLists *listed) {
  if (listed || use_linear_patterns(ev)) {  // spikes: items (block of 32 columns, range of rows)
    const PatternLists &lists = pattern_lists(ev, listed);  // (the calling thread's: captured)
    const int64_t blocks = (out + kPatternColumns - 1) / kPatternColumns,
                  parts = split_for_threads(blocks);
    parallel_for(blocks * parts, 1, [&](int64_t k0, int64_t k1) {
      thread_local AlignedFloats table_buffer;
      AlignedFloats &table = table_buffer;
      int64_t built = -1;
      for (int64_t k = k0; k < k1; ++k) {
        const int64_t blk = k / parts, part = k % parts, o0 = blk * kPatternColumns,
                      width = std::min(kPatternColumns, out - o0);
        if (blk != built) build_pattern_table(wt, ld_wt, ev.width, o0, width, table);
        built = blk;
        for (int64_t r = ev.rows * part / parts; r < ev.rows * (part + 1) / parts; ++r)
          pattern_sums(lists.entry.data() + lists.start[r], lists.count[r], table.data(), b + o0,
                       y + r * out + o0, width);
      }
    });
    return;
  }
  parallel_for(ev.rows, 4, [&](int64_t r0, int64_t r1) {
    for (int64_t o0 = 0; o0 < out; o0 += kOutBlock) {
      int64_t n = std::min(kOutBlock, out - o0);
      for (int64_t r = r0; r < r1; ++r)
        sum_rows(ev.index.data() + ev.start[r], ev.ones ? nullptr : ev.value.data() + ev.start[r],
                 ev.start[r + 1] - ev.start[r], wt + o0, ld_wt, b + o0, y + r * out + o0, n);
    }
  });
}

int64_t fused_column_blocks(int64_t out) {
  return (out + kOutBlock - 1) / kOutBlock;
}

namespace {
/// The fused pass over items (column block of `block` columns, sample), block-major: each
/// thread's blocks stay in L2 while it goes through all samples. prepare(blk) runs when a
/// thread reaches a block and returns what the block's sums read (a table, or null);
/// sum_row(prepared, r, o0, width, sums) writes row r's sums for the block.
template <typename Prepare, typename SumRow>
void fused_cell_items(const CellPass &cell, int64_t out, int64_t block, Prepare &&prepare,
                      SumRow &&sum_row) {
  const int64_t T = cell.T, B = cell.B, blocks = (out + block - 1) / block;
  parallel_for(blocks * B, 1, [&](int64_t k0, int64_t k1) {
    thread_local AlignedFloats sums_buffer, state_buffer;
    sums_buffer.resize(static_cast<size_t>(T * block));
    state_buffer.resize(static_cast<size_t>(std::max<int64_t>(cell.states, 1) * block));
    float *sums = sums_buffer.data(), *post = state_buffer.data();
    int64_t prepared = -1;
    const float *data = nullptr;
    for (int64_t k = k0; k < k1; ++k) {
      const int64_t blk = k / B, o0 = blk * block, sample = k % B,
                    width = std::min(block, out - o0);
      if (blk != prepared) data = prepare(blk);
      prepared = blk;
      for (int64_t t = 0; t < T; ++t) sum_row(data, t * B + sample, o0, width, sums + t * width);
      // steps `width` apart in the buffer, B * out apart in the output; latest states only
      cell.forward(sums, cell.out + sample * out + o0, post, T, width, width, B * out, 0);
      if (cell.bits)  // (its spikes were just written: in cache)
        for (int64_t t = 0; t < T; ++t) {
          const int64_t r = t * B + sample;
          spike_bits(cell.out + r * out + o0, width, cell.bits + r * cell.bit_words + o0 / 16);
        }
    }
  });
}
}  // namespace

void linear_cell_forward_events(const Events &ev, const float *wt, int64_t ld_wt, const float *b,
                                int64_t out, const CellPass &cell, const PatternLists *listed) {
  // per item T rows of sums in an L1-resident buffer
  if (listed || use_linear_patterns(ev)) {  // spikes: a table per block of 32 columns
    const PatternLists &lists = pattern_lists(ev, listed);  // (the calling thread's: captured)
    fused_cell_items(
        cell, out, kPatternColumns,
        [&](int64_t blk) -> const float * {
          thread_local AlignedFloats table;
          build_pattern_table(wt, ld_wt, ev.width, blk * kPatternColumns,
                              std::min(kPatternColumns, out - blk * kPatternColumns), table);
          return table.data();
        },
        [&](const float *table, int64_t r, int64_t o0, int64_t width, float *sums) {
          pattern_sums(lists.entry.data() + lists.start[r], lists.count[r], table, b + o0, sums,
                       width);
        });
    return;
  }
  fused_cell_items(
      cell, out, kOutBlock, [](int64_t) -> const float * { return nullptr; },
      [&](const float *, int64_t r, int64_t o0, int64_t width, float *sums) {
        const int64_t first = ev.start[r];
        sum_rows(ev.index.data() + first, ev.ones ? nullptr : ev.value.data() + first,
                 ev.start[r + 1] - first, wt + o0, ld_wt, b + o0, sums, width);
      });
}

void linear_input_grad(const float *g_y, const float *w, float *g_x, int64_t rows, int64_t in,
                       int64_t out, bool add) {
  parallel_for(rows, 16, [&](int64_t r0, int64_t r1) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, r1 - r0, in, out, 1.f, g_y + r0 * out,
                out, w, in, add ? 1.f : 0.f, g_x + r0 * in, in);
  });
}

void linear_bias_grad(const float *__restrict g_y, float *__restrict g_b, int64_t rows,
                      int64_t out) {
  parallel_for(out, 16, [&](int64_t o0, int64_t o1) {
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t o = o0; o < o1; ++o) g_b[o] += g_y[r * out + o];
  });
}

namespace {
/// The event weight gradient (with the bias as input `in`) through pattern tables of g_y:
/// each row block's rows in groups of 4, a table per row block and block of 32 columns
/// holding each group's sums over all subsets of its rows, each input's rows in the block
/// as table rows. Threads take blocks of columns; each keeps every input's running sums of
/// its current columns (acc: [in + 1][32], in L2) across the row blocks, then adds them to
/// g_w (the bias's, which start from g_b, are written to g_b). by_input/starts: each row
/// block's rows listed by input, as linear_backward's counting sort leaves them (block blk's
/// list of input i at list_base(ev, blk) + starts[blk][i]).
void linear_weight_grad_patterns(const float *g_y, float *g_w, float *g_b, int64_t rows, int64_t in,
                                 int64_t out, const Events &ev, const int32_t *by_input,
                                 const int32_t *starts) {
  const int64_t inputs = in + 1, blocks = (rows + kRowBlock - 1) / kRowBlock,
                listed = ev.count() + rows;
  auto base = [&](int64_t blk) { return list_base(ev, blk * kRowBlock); };
  thread_local std::vector<uint16_t> entry_buffer;  // (each list's table rows where it was)
  thread_local std::vector<int32_t> count_buffer;
  entry_buffer.resize(static_cast<size_t>(listed));
  count_buffer.resize(static_cast<size_t>(blocks * inputs));
  uint16_t *entries = entry_buffer.data();
  int32_t *counts = count_buffer.data();
  parallel_for(blocks, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t blk = b0; blk < b1; ++blk) {
      const int32_t *bs = starts + blk * (inputs + 1);
      const int64_t at = base(blk);
      for (int64_t i = 0; i < inputs; ++i)
        counts[blk * inputs + i] = static_cast<int32_t>(
            patterns_of(by_input + at + bs[i], bs[i + 1] - bs[i], entries + at + bs[i]));
    }
  });
  // items (block of 32 columns, range of inputs): the ranges only where the blocks are too
  // few for the threads (each item builds its tables)
  const int64_t column_blocks = (out + kPatternColumns - 1) / kPatternColumns,
                parts = split_for_threads(column_blocks);
  parallel_for(column_blocks * parts, 1, [&](int64_t k0, int64_t k1) {
    thread_local AlignedFloats table_buffer, acc_buffer;
    AlignedFloats &table = table_buffer;
    acc_buffer.resize(static_cast<size_t>((inputs / parts + 1) * kPatternColumns));
    float *acc = acc_buffer.data();  // [i1 - i0][32]
    for (int64_t k = k0; k < k1; ++k) {
      const int64_t c = k / parts, part = k % parts, i0 = inputs * part / parts,
                    i1 = inputs * (part + 1) / parts, o0 = c * kPatternColumns,
                    width = std::min(kPatternColumns, out - o0);
      std::fill(acc, acc + (i1 - i0) * kPatternColumns, 0.f);
      if (i1 > in)  // the bias's sums start from g_b
        std::copy_n(g_b + o0, width, acc + (in - i0) * kPatternColumns);
      for (int64_t blk = 0; blk < blocks; ++blk) {
        const int64_t r0 = blk * kRowBlock, r1 = std::min(rows, r0 + kRowBlock), at = base(blk);
        build_pattern_table(g_y + r0 * out, out, r1 - r0, o0, width, table);
        const int32_t *bs = starts + blk * (inputs + 1);
        const int32_t *count = counts + blk * inputs;
        for (int64_t i = i0; i < i1; ++i)
          if (count[i] > 0) {
            float *sum = acc + (i - i0) * kPatternColumns;
            pattern_sums(entries + at + bs[i], count[i], table.data(), sum, sum, width);
          }
      }
      const int64_t last = std::min(i1, in);  // (input `in` is the bias)
      for (int64_t o = 0; o < width; ++o) {
        float *row = g_w + (o0 + o) * in;
        for (int64_t i = i0; i < last; ++i) row[i] += acc[(i - i0) * kPatternColumns + o];
      }
      if (i1 > in) std::copy_n(acc + (in - i0) * kPatternColumns, width, g_b + o0);
    }
  });
}
}  // namespace

void linear_backward(const float *x, const float *w, const float *g_y, float *g_x, float *g_w,
                     float *g_b, int64_t rows, int64_t in, int64_t out, const Events *ev,
                     bool narrow, bool add_to_g_x) {
  if (g_x) linear_input_grad(g_y, w, g_x, rows, in, out, add_to_g_x);
  if (!ev || narrow) linear_bias_grad(g_y, g_b, rows, out);  // (events: with the weights')
  if (narrow) {  // from the nonzero inputs (listed again, or as the forward kept them)
    if (ev && (ev->rows != rows || ev->width != in))
      throw std::logic_error("linear_backward: kept lists of another shape");
    parallel_for(in, 64, [&](int64_t i0, int64_t i1) {
      const int64_t n = i1 - i0;
      thread_local AlignedFloats g_wt;
      thread_local std::vector<int32_t> index;
      thread_local std::vector<float> value;
      g_wt.assign(static_cast<size_t>(n * 16), 0.f);
      index.resize(n);
      value.resize(n);
      float *partial = g_wt.data();  // (thread_local: named once, outside the loops)
      narrow_weight_grad_avx512(x, ev, g_y, partial, rows, in, out, i0, i1, index.data(),
                                value.data());
      for (int64_t o = 0; o < out; ++o)
        for (int64_t i = 0; i < n; ++i) g_w[o * in + i0 + i] += partial[i * 16 + o];
    });
    return;
  }
  if (!ev) {  // a block of output rows of g_w per thread; sums over rows inside the GEMM
    parallel_for(out, 8, [&](int64_t o0, int64_t o1) {
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, o1 - o0, in, rows, 1.f, g_y + o0, out, x,
                  in, 1.f, g_w + o0 * in, in);
    });
    return;
  }
  // from events: g_w[o][i] += the sum over rows r, in order, of v * g_y[r][o] for each event
  // (i, v) of row r, and g_b[o] plus each g_y[r][o] in row order (the bias is input `in`,
  // with an event of value 1 in every row, its sums starting from g_b: the additions of
  // linear_bias_grad, without a separate pass over g_y). Rows go in blocks of
  // kRowBlock; each block's events are listed by input (a counting sort keeps rows in order;
  // blocks sorted in parallel). Each thread takes a range of inputs and, for one block of
  // kOutBlock columns at a time, keeps the running sums of its inputs' columns (acc: in L2)
  // while it goes through the row blocks (their g_y columns stay in L2 while every input
  // reads them): sum_rows continues each sum in vector registers, so the sums are those of a
  // plain loop over the events, added to g_w (written to g_b) at the end. Spikes in enough
  // rows take pattern tables after the sort instead (linear_weight_grad_patterns: the same
  // sums in another order, the bias's too).
  const int64_t inputs = in + 1, blocks = (rows + kRowBlock - 1) / kRowBlock,
                listed = ev->count() + rows;
  thread_local std::vector<int32_t> by_input_start, by_input_row;
  thread_local std::vector<float> by_input_value;
  by_input_start.resize(static_cast<size_t>(blocks * (inputs + 1)));
  by_input_row.resize(static_cast<size_t>(listed));
  by_input_value.resize(ev->ones ? 0 : static_cast<size_t>(listed));  // (spikes: all 1, unlisted)
  int32_t *starts = by_input_start.data(), *ev_rows = by_input_row.data();
  float *ev_values = by_input_value.data();
  // a block's listing starts after the events and bias events of the rows before it

  parallel_for(blocks, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t blk = b0; blk < b1; ++blk) {
      const int64_t r0 = blk * kRowBlock, r1 = std::min(rows, r0 + kRowBlock),
                    base = list_base(*ev, r0);
      int32_t *bs = starts + blk * (inputs + 1);
      std::fill(bs, bs + inputs + 1, 0);
      for (int64_t e = ev->start[r0]; e < ev->start[r1]; ++e) ++bs[ev->index[e] + 1];
      bs[inputs] = static_cast<int32_t>(r1 - r0);
      for (int64_t i = 0; i < inputs; ++i) bs[i + 1] += bs[i];
      auto list = [&](int64_t i, int64_t r, float v) {
        const int64_t at = base + bs[i]++;  // (bs[i] ends at the next input's start)
        ev_rows[at] = static_cast<int32_t>(r - r0);
        if (!ev->ones) ev_values[at] = v;
      };
      for (int64_t r = r0; r < r1; ++r) {
        for (int64_t e = ev->start[r]; e < ev->start[r + 1]; ++e)
          list(ev->index[e], r, ev->value[e]);
        list(in, r, 1.f);
      }
      for (int64_t i = inputs; i > 0; --i) bs[i] = bs[i - 1];
      bs[0] = 0;
    }
  });
  if (use_pattern_weight_grad(*ev)) {
    linear_weight_grad_patterns(g_y, g_w, g_b, rows, in, out, *ev, ev_rows, starts);
    return;
  }
  parallel_for(inputs, 8, [&](int64_t i0, int64_t i1) {
    thread_local std::vector<float> acc_buffer;
    acc_buffer.resize(static_cast<size_t>((i1 - i0) * kOutBlock));
    float *acc = acc_buffer.data();  // [i1 - i0][width]
    for (int64_t o0 = 0; o0 < out; o0 += kOutBlock) {
      const int64_t width = std::min(kOutBlock, out - o0);
      std::fill(acc, acc + (i1 - i0) * width, 0.f);
      if (i1 > in)  // the bias's sums continue from g_b (linear_bias_grad's order)
        std::copy_n(g_b + o0, width, acc + (in - i0) * width);
      for (int64_t blk = 0; blk < blocks; ++blk) {
        const int64_t r0 = blk * kRowBlock, base = list_base(*ev, r0);
        const int32_t *bs = starts + blk * (inputs + 1);
        for (int64_t i = i0; i < i1; ++i)
          if (bs[i + 1] > bs[i]) {
            float *sum = acc + (i - i0) * width;
            sum_rows(ev_rows + base + bs[i], ev->ones ? nullptr : ev_values + base + bs[i],
                     bs[i + 1] - bs[i], g_y + r0 * out + o0, out, sum, sum, width);
          }
      }
      for (int64_t o = 0; o < width; ++o) {
        const int64_t last = std::min(i1, in);  // (input `in` is the bias)
        for (int64_t i = i0; i < last; ++i) g_w[(o0 + o) * in + i] += acc[(i - i0) * width + o];
      }
      if (i1 > in) std::copy_n(acc + (in - i0) * width, width, g_b + o0);
    }
  });
}

}  // namespace snnc::rt::nn
