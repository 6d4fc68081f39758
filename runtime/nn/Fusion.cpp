// Fusion.cpp — planning conv + max-pool fusion, choosing the cells that synaptic layers
// compute, and handing spike bits on.
#include "Fusion.h"

#include "Ops.h"
#include "Parallel.h"

namespace snnc::rt::nn {

bool planned_dense_at_any_density(const LayerSpec &l) {
  return l.synapse == Synapse::Auto && l.event_threshold <= 0 && !l.compressed;
}

bool reads_as_narrow(const LayerSpec &l) {
  return l.kind == LayerSpec::Linear && planned_dense_at_any_density(l) &&
         narrow_linear(l.out_features);
}

void Fusion::plan_conv_pools(std::vector<LayerSpec> &layers, int output, MemoryPlan &mem) {
  const int n = static_cast<int>(layers.size());
  fused_into_.assign(n, -1);
  for (int i = 0; i < n; ++i) {
    LayerSpec &l = layers[i];
    if (l.kind != LayerSpec::Conv2d || l.fused_pool < 0) continue;
    const int j = l.fused_pool;
    const bool ok = j < n && layers[j].kind == LayerSpec::MaxPool && layers[j].input == i &&
                    layers[j].kernel == layers[j].stride && layers[j].padding == 0 &&
                    mem.consumers(i) == 1 && i != output;
    if (!ok) {
      l.fused_pool = -1;
      continue;
    }
    fused_into_[j] = i;
    mem.not_kept(i);
  }
}

int Fusion::cell_to_fuse(const std::vector<LayerSpec> &layers, int output, const MemoryPlan &mem,
                         int i, int64_t B, bool whole_forward_only) const {
  // forward-only, whole sequence: layer i is an event-path candidate (linear, or conv with or
  // without its fused max-pool) and the cell right after it is its output's only consumer,
  // neither being the network's output (a membrane readout may read the cell's states), the
  // cell with a compiled forward scan; enough items for the threads (column blocks times
  // samples for a linear layer, samples for a conv, which takes whole samples)
  const LayerSpec &l = layers[i];
  if (l.kind != LayerSpec::Linear && l.kind != LayerSpec::Conv2d) return -1;
  if (l.kind == LayerSpec::Linear && l.compressed) return -1;
  const int feeds = l.kind == LayerSpec::Conv2d && l.fused_pool >= 0 ? l.fused_pool : i;
  const auto next = static_cast<size_t>(feeds) + 1;
  if (!fuse_cells_ || !whole_forward_only || i == output || feeds == output ||
      next >= layers.size() || mem.consumers(feeds) != 1)
    return -1;
  const LayerSpec &c = layers[next];
  if (c.kind != LayerSpec::Cell || c.input != feeds || static_cast<int>(next) == output ||
      !c.forward)
    return -1;
  const bool enough = l.kind == LayerSpec::Linear
                          ? fused_column_blocks(l.out_features) * B >= 2 * thread_count()
                          : B >= 4 * thread_count();
  if (!enough) return -1;
  return static_cast<int>(next);
}

void Fusion::hand_bits(const std::vector<LayerSpec> &layers, int output, const MemoryPlan &mem,
                       int cell, int64_t rows, int64_t width, CellPass &pass) {
  // spikes a narrow readout reads (directly, or through a flatten: each its input's only
  // consumer): also as bits, which the readout lists instead of the floats
  if (!layers[cell].spiking || mem.consumers(cell) != 1) return;
  int next = mem.first_consumer(cell);
  if (layers[next].kind == LayerSpec::Flatten) {
    if (next == output || mem.consumers(next) != 1) return;
    next = mem.first_consumer(next);
  }
  // or an event-path conv of binary input (forced or auto), which lists each row from them
  const LayerSpec &reader = layers[next];
  const bool conv = reader.kind == LayerSpec::Conv2d && next == mem.first_consumer(cell) &&
                    reader.synapse != Synapse::Dense && !planned_dense_at_any_density(reader);
  if (!conv && !reads_as_narrow(reader)) return;
  const int buffer = 1 - bits_in_;  // (not the one a layer may be reading now)
  pass.bit_words = (width + 15) / 16;
  spike_bits_[buffer].resize(static_cast<size_t>(rows * pass.bit_words));
  pass.bits = spike_bits_[buffer].data();
  bits_for_ = next;
  bits_in_ = buffer;
}

void Fusion::trim() {
  for (auto &bits : spike_bits_) std::vector<uint16_t>().swap(bits);  // (the last batch's)
  patterns_ = PatternLists();
}

size_t Fusion::bytes() const {
  size_t bytes = 0;
  for (const auto &bits : spike_bits_) bytes += bits.capacity() * sizeof(uint16_t);
  bytes += patterns_.entry.capacity() * sizeof(uint16_t) +
           patterns_.count.capacity() * sizeof(int32_t) +
           patterns_.start.capacity() * sizeof(int64_t);
  return bytes;
}

}  // namespace snnc::rt::nn
