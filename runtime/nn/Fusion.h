// Fusion.h — which layers of a network (runtime/nn/Network) compute together, and what they
// hand each other within a forward pass: a conv with the max-pool after it (planned once),
// an event-driven synaptic layer with the cell after it (forward-only passes), that cell's
// spikes also as bits for the narrow readout or event-path conv that reads them, and a
// forward-only linear layer's pattern groups, listed while its input is counted.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "Layers.h"
#include "LinearPatterns.h"
#include "MemoryPlan.h"

namespace snnc::rt::nn {

struct CellPass;  // Ops.h

/// Passes that took the fused paths: a cell computed with its synaptic layer, a narrow
/// readout listing its input from the fused cell's spike bits, an event-path conv listing
/// its input from them.
struct FusionStats {
  int64_t cells = 0, spike_bits = 0, conv_bits = 0;
};

/// A layer on `auto` that the compiler planned dense at any density (a readout; not a
/// compressed sparse layer, which always takes its events).
bool planned_dense_at_any_density(const LayerSpec &l);
/// Whether a layer computes its product with the narrow row kernel: a readout planned dense
/// at any density, of at most 16 outputs (AVX-512).
bool reads_as_narrow(const LayerSpec &l);

class Fusion {
 public:
  /// Conv + max-pool fusion where the compiler asked for it (fused_pool) and the shapes allow
  /// it; elsewhere fused_pool is cleared. A fused conv's own output is never stored.
  void plan_conv_pools(std::vector<LayerSpec> &layers, int output, MemoryPlan &mem);
  /// The conv that computes this max-pool, or -1.
  int pool_conv(int layer) const { return fused_into_[layer]; }

  /// Whether forward-only passes may fuse cells into their synaptic layers.
  void set_cells(bool on) { fuse_cells_ = on; }
  const FusionStats &stats() const { return stats_; }
  /// A new forward pass: nothing fused or handed on yet.
  void begin_pass() { fused_cell_ = bits_for_ = patterns_for_ = -1; }

  /// The cell an event-driven synaptic layer computes with itself (linear_cell_forward_events,
  /// conv2d_forward_events), or -1; only in a forward-only pass over the whole sequence
  /// (`whole_forward_only`).
  int cell_to_fuse(const std::vector<LayerSpec> &layers, int output, const MemoryPlan &mem,
                   int layer, int64_t batch, bool whole_forward_only) const;
  /// A synaptic layer computed `cell`: marked for the rest of the pass.
  void fused(int cell) {
    fused_cell_ = cell;
    ++stats_.cells;
  }
  /// Whether the cell was computed with its synaptic layer (the mark is then cleared).
  bool take_fused(int cell) {
    if (fused_cell_ != cell) return false;
    fused_cell_ = -1;
    return true;
  }

  /// A fused cell's spikes also as bits (pass.bits), where a narrow readout or an event-path
  /// conv reads them (`rows` rows of `width` spikes).
  void hand_bits(const std::vector<LayerSpec> &layers, int output, const MemoryPlan &mem, int cell,
                 int64_t rows, int64_t width, CellPass &pass);
  /// Whether `layer` reads the bits handed on this pass, and the bits.
  bool bits_for(int layer) const { return bits_for_ == layer; }
  const uint16_t *bits() const { return spike_bits_[bits_in_].data(); }
  /// Handed on no further (read, or a narrow readout ran).
  void bits_read() { bits_for_ = -1; }
  void count_spike_bits(bool read) { stats_.spike_bits += read; }
  void count_conv_bits(bool read) { stats_.conv_bits += read; }

  /// Where a forward-only linear layer's counting pass lists its pattern groups, and the
  /// layer that has them (its events then hold no index lists).
  PatternLists &pattern_lists() { return patterns_; }
  void patterns_listed(int layer) { patterns_for_ = layer; }
  bool has_patterns(int layer) const { return patterns_for_ == layer; }
  /// The layer's lists (or null), which no layer has afterwards.
  const PatternLists *take_patterns(int layer) {
    const PatternLists *listed = patterns_for_ == layer ? &patterns_ : nullptr;
    patterns_for_ = -1;
    return listed;
  }

  /// Frees the bits and lists (sized for the last batch).
  void trim();
  size_t bytes() const;

 private:
  std::vector<int> fused_into_;  ///< per layer: the conv that computes this max-pool, or -1
  bool fuse_cells_ = true;
  int fused_cell_ = -1;
  FusionStats stats_;
  /// fused spiking cells' outputs as bits: two buffers, so that a layer reading one can
  /// hand its own cell's bits on in the other
  std::vector<uint16_t> spike_bits_[2];
  int bits_in_ = 0;        ///< the buffer bits_for_ reads
  int bits_for_ = -1;      ///< the layer (narrow readout or event conv) that reads them this pass
  PatternLists patterns_;  ///< a forward-only linear layer's groups, listed directly
  int patterns_for_ = -1;  ///< the layer whose events have only patterns_ this pass
};

}  // namespace snnc::rt::nn
