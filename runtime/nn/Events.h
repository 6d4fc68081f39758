// Events.h — the nonzero entries of a [rows][width] activation, row by row (compressed
// sparse rows), for event-driven synaptic ops: a spike tensor at low density is cheaper to
// propagate as a list of active inputs than as a dense matrix product.
#pragma once
#include <cstdint>
#include <vector>

namespace snnc::rt::nn {

struct Events {
  int64_t rows = 0, width = 0;
  std::vector<int64_t> start;  ///< rows + 1 offsets into index/value
  std::vector<int32_t> index;  ///< column of each nonzero, ascending within a row
  std::vector<float> value;    ///< its value (1 for a spike)
  /// every value is 1 (spikes): kernels may skip `value` (count_events/fill_events still
  /// fill it; a narrow readout's kept lists leave it empty)
  bool ones = false;
  int64_t count() const { return start.empty() ? 0 : start.back(); }
  double density() const {
    return rows * width > 0 ? static_cast<double>(count()) / static_cast<double>(rows * width)
                            : 0.0;
  }
};

/// Counts the nonzeros of each row (fills rows, width, start, ones); returns the total.
int64_t count_events(const float *x, int64_t rows, int64_t width, Events &ev);
/// count_events for spikes given as bits (`words` per row, as spike_bits writes them): ev
/// gets rows, width, start and ones (true), no index or value lists; returns the total.
int64_t count_bits(const uint16_t *bits, int64_t rows, int64_t width, int64_t words, Events &ev);
/// Fills index/value after count_events on the same x.
void fill_events(const float *x, Events &ev);
/// A row's nonzeros as bits: word k's bit j for row[16k + j] (the last word's bits past
/// width clear).
void spike_bits(const float *row, int64_t width, uint16_t *bits);
/// The elements whose bits are set (as spike_bits writes them; `words` words) into index,
/// ascending, and a 1 for each into value (room: 16 * words each); returns how many.
int64_t list_bits(const uint16_t *bits, int64_t words, int32_t *index, float *value);
/// Lists one row's nonzeros (columns ascending) into index/value (room for `width` each);
/// returns how many.
int64_t compress_row(const float *row, int64_t width, int32_t *index, float *value);

}  // namespace snnc::rt::nn
