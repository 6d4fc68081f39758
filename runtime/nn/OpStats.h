// OpStats.h — statistics of a layer network's synaptic ops (runtime/nn/Network): the
// operations that forward passes performed (accumulates for spike inputs, multiply-accumulates
// for real-valued ones; what the reports and the device executor count too) and, per
// linear/conv layer, the input density and path of each pass.
#pragma once
#include <cstdint>

#include "Layers.h"

namespace snnc::rt::nn {

/// Synaptic operations of a linear/conv `layer` over `rows` rows of its input `in` (n values,
/// from `source`): a binary (spike) input adds one accumulate per active input and target,
/// a real-valued one every multiply-accumulate of the layer. Adds to *accumulates / *macs.
void count_synaptic_ops(const LayerSpec &layer, const LayerSpec &source, const float *in, int64_t n,
                        int64_t rows, double *accumulates, double *macs);
/// The same from the input's counts: `nonzero` values, `binary` when all are 0 or 1.
void count_synaptic_ops(const LayerSpec &layer, const LayerSpec &source, int64_t nonzero,
                        bool binary, int64_t rows, double *accumulates, double *macs);

/// Synaptic operations counted by forward passes since counting started: accumulates
/// (a binary spike input adds a weight: one AC per active input and target) and
/// multiply-accumulates (real-valued input: every weight of the layer).
struct OpCounts {
  double accumulates = 0, macs = 0;
  int64_t samples = 0;  ///< samples seen (B per forward)
};

/// Counts forward passes' synaptic ops while on (counting costs a pass over each synaptic
/// op's input).
class OpCounter {
 public:
  /// Starts (or stops) counting, from zero.
  void start(bool on) {
    on_ = on;
    counts_ = {};
  }
  bool on() const { return on_; }
  const OpCounts &counts() const { return counts_; }
  /// A forward pass of `batch` samples.
  void pass(int64_t batch) {
    if (on_) counts_.samples += batch;
  }
  /// A linear/conv layer's ops over `rows` rows of its input `in` (n values).
  void count(const LayerSpec &layer, const LayerSpec &source, const float *in, int64_t n,
             int64_t rows) {
    if (!on_) return;
    count_synaptic_ops(layer, source, in, n, rows, &counts_.accumulates, &counts_.macs);
  }

 private:
  bool on_ = false;
  OpCounts counts_;
};

/// Per layer (linear/conv only): the input density and path of the last forward pass, and
/// how many passes took each path.
struct SynapseStats {
  double density = -1;  ///< -1: not measured (forced dense)
  bool events = false;
  /// a narrow layer (<= 16 outputs) planned dense at any density, computed by the row
  /// kernel from its nonzero inputs (linear_forward_narrow) instead of a GEMM
  bool narrow = false;
  bool narrow_kept = false;  ///< the narrow kernel's lists kept (Network's events) for backward
  int64_t event_passes = 0, dense_passes = 0;
};

}  // namespace snnc::rt::nn
