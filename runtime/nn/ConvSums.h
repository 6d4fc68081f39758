// ConvSums.h — event-driven conv forward kernels for binary (spike) inputs that compute
// each output once, in vector registers, instead of scattering every tap into it:
// output-stationary tap sums (many taps per output) and row-pattern sums (few input
// channels, few taps per output). Internal to runtime/nn (used by Conv.cpp).
#pragma once
#include <cstdint>
#include <vector>

#include "Aligned.h"
#include "ConvGeometry.h"

namespace snnc::rt::nn {

/// The zero-padded input rows of a conv's binary input as 32-bit masks of spikes (rows of at
/// most 32 columns), which both kernels below start from.
struct PaddedRows {
  const Geometry &g;
  int64_t HP;                  ///< padded input rows per channel
  std::vector<int32_t> place;  ///< per input element: its padded row c*HP + iy + P, << 5, | ix + P
  explicit PaddedRows(const Geometry &geom);
  /// rows[c*HP + iy + P] (C*HP masks, zeroed here) gets bit ix + P of each event's input.
  void mark(const int32_t *index, int64_t count, uint32_t *rows) const;
};

/// Whether a sample's event values are all 1 (spikes), as both kernels need.
bool all_ones(const float *value, int64_t count);

/// Output-stationary event sums (forward, binary inputs, stride 1): for each output
/// position the kernel taps whose input spiked are listed, up to 30 candidate taps at a time
/// compressed (16-bit lanes, AVX-512 VBMI2) from bitmasks of the input rows, and their
/// weight rows summed in registers;
/// each output is stored once. The scatter instead loads and stores an output once per
/// contributing tap, which holds it at the load/store ports' limit. Taps are listed in
/// (c, ky, kx) order, the events' order, and added to zero, so the sums equal the
/// scatter's (whose multiply by a value of 1 is exact) bit for bit.
struct OutputSums {
  const PaddedRows &rows;
  /// per (c, ky): where its pieces start, (c*HP + ky) * OW, then 16 more entries pointing
  /// at the zero row after the rows (whole groups of pieces without bounds checks)
  std::vector<int32_t> piece_offset;
  /// per group of 32 / K pieces: the taps of its 32 lanes (taps are consecutive: a piece
  /// j = c*K + ky holds taps j*K .. j*K + K - 1)
  std::vector<uint16_t> group_taps;
  explicit OutputSums(const PaddedRows &padded_rows);
  /// Whether this machine (AVX-512 VBMI2), geometry and width (output channels, a multiple
  /// of 16) are handled.
  static bool usable(const Geometry &g, int64_t width);
};

/// Sums a sample's events (all of value 1) into acc ([position][width]) by output-stationary
/// sums; false (nothing done) if they are too few to pay for the listing: with a few taps
/// per output the variable-length sums mispredict more than the scatter's stores cost.
/// wt: the weight as [ckk][width].
bool sum_outputs(const int32_t *index, int64_t count, const float *wt, float *acc,
                 const OutputSums &os, int64_t width);

/// Row-pattern sums (forward, binary inputs, stride 1, few input channels, 16 output
/// channels: a first conv layer on spike input, with a few taps per output, where the
/// scatter is held up by its read-modify-writes and output-stationary tap lists mispredict).
/// The K taps of kernel row ky that output (oy, ox) reads from input row oy + ky of channel c
/// form a K-bit pattern (bit kx: input column ox + kx spiked); table[c][ky][pattern] holds
/// the sum of those taps' weight rows (kx ascending), so each output is C*K table rows
/// added in registers and stored once (no zeroing, no per-tap stores). Sums equal the
/// scatter's up to float rounding (the taps of one kernel row are added first).
struct PatternSums {
  const PaddedRows &rows;
  std::vector<int32_t> row_of;  ///< per (c, ky): c*HP + ky, the padded row output row 0 reads
  AlignedFloats table;          ///< [c][ky][pattern][16]
  PatternSums(const PaddedRows &padded_rows, const float *wt);  ///< wt: [ckk][16]
  /// Whether this machine (AVX-512), geometry and width (16 output channels) are handled
  /// (and the table stays in L1).
  static bool usable(const Geometry &g, int64_t width);
};

/// Sums a sample's events (all of value 1) into acc ([position][16]) by row-pattern sums.
void sum_patterns(const int32_t *index, int64_t count, const PatternSums &ps, float *acc);

}  // namespace snnc::rt::nn
