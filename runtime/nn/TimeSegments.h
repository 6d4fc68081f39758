// TimeSegments.h — training over time segments (Network::set_segment_steps): the segments of
// the last segmented forward pass, the dropout stream's position at the start of each, and
// each spiking cell's states and spikes at the boundaries between them, from which backward
// reruns a segment's forward. (Network's segmented passes are in TimeSegments.cpp.)
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "Layers.h"

namespace snnc::rt::nn {

struct TimeSegments {
  int64_t steps = 0;  ///< steps per segment (0: whole sequences)
  int count = 0;      ///< segments of the last forward (0: whole sequence)
  int current = 0;
  bool rerun = false;  ///< backward's rerun of a segment (not counted as a pass again)
  const float *x = nullptr;
  int64_t T = 0;
  uint64_t dropout_calls_after = 0;
  std::vector<uint64_t> dropout_calls;  ///< per segment: the stream position at its start
  /// per spiking cell layer: the states [S][n] and spikes [n] before each segment but the
  /// first
  std::vector<std::vector<float>> boundary;
  std::vector<float> last_out, last_post;  ///< the last segment's output (between passes)

  int64_t start(int k) const { return k * steps; }
  int64_t length(int k) const { return std::min(steps, T - start(k)); }
  /// Sets up a segmented pass over `input` (steps_in_all steps of B samples; refused for a
  /// spiking cell without the kernels that start from a given state): boundaries sized,
  /// dropout positions cleared. Returns the number of segments (`count` is left to the caller).
  int plan(const std::vector<LayerSpec> &layers, const float *input, int64_t steps_in_all,
           int64_t B);
  /// A spiking cell's boundary before the current segment (n elements per state), or null
  /// (first segment, whole sequence, a cell without spikes or states).
  const float *prev(int layer, const LayerSpec &l, int64_t n) const {
    if (count == 0 || current == 0 || !l.spiking) return nullptr;
    return boundary[layer].data() + (current - 1) * (l.states + 1) * n;
  }
  /// Keeps a spiking cell's states after the current segment's last step (last_state) and its
  /// spikes then (the last of the steps_run steps of out), in the first pass of a segmented
  /// forward.
  void save(int layer, const LayerSpec &l, const float *out, const float *last_state,
            int64_t steps_run, int64_t n);
  /// Frees the boundaries (sized for the batch of the last segmented pass).
  void trim() { boundary.clear(); }
  size_t bytes() const;
};

}  // namespace snnc::rt::nn
