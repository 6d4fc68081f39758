// LinearPatterns.h — event-driven linear sums for spike inputs through pattern tables (the
// "method of the four Russians"): the inputs go in groups of four, and for a block of 32
// output columns a table holds, for every group, the sums of its weight rows over all 16
// subsets of the group. A row of spikes then adds one table row per group with any spike
// instead of one weight row per spike: at 12 % input density, 78.5 table rows instead of
// 94 weight rows per 784 inputs, from a 392 KB table that stays in L2 while every row of
// the batch reads it. Used by Linear.cpp's event paths, and by Network, which lists a
// forward-only pass's groups while it counts the input.
#pragma once
#include <cstdint>
#include <vector>

#include "Aligned.h"
#include "Events.h"

namespace snnc::rt::nn {

constexpr int kPatternBits = 4;               // inputs per group
constexpr int kPatterns = 1 << kPatternBits;  // table rows per group (row 0: zeros)
constexpr int64_t kPatternColumns = 32;       // output columns per table (two vectors)

/// Whether the pattern path serves these events here: spikes (values all 1), AVX-512,
/// enough rows to pay for the tables, inputs few enough for a table to stay in L2, and a
/// density at which groups with a spike are clearly fewer than spikes.
bool use_linear_patterns(const Events &ev);

/// Whether linear_backward's event weight gradient uses pattern tables of the output
/// gradient's rows (groups of 4 rows of a row block; any number of inputs): spikes, AVX-512,
/// enough rows, a density at which it pays.
bool use_pattern_weight_grad(const Events &ev);

/// The table rows (group * 16 + pattern, ascending) of a list of n ascending indices into
/// `out` (room: n); returns how many.
int64_t patterns_of(const int32_t *index, int64_t n, uint16_t *out);

/// Each row's nonzero groups as table-row numbers (group * 16 + pattern, ascending), row r's
/// count[r] of them at entry[start[r]].
struct PatternLists {
  std::vector<uint16_t> entry;
  std::vector<int32_t> count;
  std::vector<int64_t> start;
};
/// Builds them from the events (rows split between threads; row r's at ev.start[r]).
void list_patterns(const Events &ev, PatternLists &lists);
/// Whether count_and_list_patterns may serve a pass of `rows` rows of `width` inputs (the
/// conditions of use_linear_patterns that do not depend on the values).
bool may_list_patterns(int64_t rows, int64_t width);
/// One pass over x ([rows][width]) instead of count_events, fill_events and list_patterns:
/// counts each row's nonzeros and whether all are 1 into ev (rows, width, start, ones; no
/// index or value lists) and lists its groups into `lists` (packed per thread). Returns
/// the number of nonzeros. The lists are those list_patterns makes when every value is 1.
int64_t count_and_list_patterns(const float *x, int64_t rows, int64_t width, Events &ev,
                                PatternLists &lists);

/// The table for output columns [o0, o0 + width) (width <= 32) of the transposed weight wt
/// ([in][ld]): [groups][16][32] floats; row p of group g is the sum of wt rows 4g + j over
/// the bits j of p (columns past width and inputs past `in` count as zeros).
void build_pattern_table(const float *wt, int64_t ld, int64_t in, int64_t o0, int64_t width,
                         AlignedFloats &table);

/// y[0, width) = b[0, width) (zeros if null) + the sum of the table rows of `entries`
/// (two chains of sums, even and odd entries, added at the end).
void pattern_sums(const uint16_t *entries, int64_t n, const float *table, const float *b, float *y,
                  int64_t width);

}  // namespace snnc::rt::nn
