// MemoryPlan.cpp — liveness of a network's layer outputs, and the buffer pool.
#include "MemoryPlan.h"

#include <algorithm>
#include <utility>

namespace snnc::rt::nn {

void MemoryPlan::plan(const std::vector<LayerSpec> &layers, int output) {
  // activations that backward does not read (a conv output feeding a pool, a flatten's
  // input) and gradients already consumed go back to the pool and are reused
  const int n = static_cast<int>(layers.size());
  consumers_.assign(n, 0);
  last_use_.assign(n, -1);
  first_consumer_.assign(n, -1);
  keep_.assign(n, false);
  for (int i = 0; i < n; ++i) {
    const LayerSpec &l = layers[i];
    if (l.kind == LayerSpec::Cell) keep_[i] = true;  // backward reads a cell's output
    if (l.input < 0) continue;
    ++consumers_[l.input];
    last_use_[l.input] = i;
    if (first_consumer_[l.input] < 0) first_consumer_[l.input] = i;
    // backward reads the input of a cell (its I) and of a synaptic op (weight gradient);
    // pooling keeps argmax only, flatten and dropout nothing
    if (l.kind == LayerSpec::Cell || l.kind == LayerSpec::Linear || l.kind == LayerSpec::Conv2d)
      keep_[l.input] = true;
  }
  keep_[0] = true;
  if (output >= 0 && output < n) keep_[output] = true;
  recompute_.assign(n, false);
  alias_.assign(n, -1);
}

bool MemoryPlan::recomputable(const std::vector<LayerSpec> &layers, int output,
                              const std::vector<SynapseStats> &syn, int i) {
  // Once its consumers have run forward, a cell's output and states are read again only by
  // its own backward (which can rerun the forward scan from the kept input) unless a
  // consumer's backward reads them: another cell (its I) or a synaptic op that took the
  // dense path (its weight gradient); pooling, flatten and dropout read only their own
  // records. The same holds for the network input, and for the output of any other layer
  // (whose own backward never reads it): a flatten feeding an event-driven readout, say.
  if (i == output) return false;
  for (size_t j = i + 1; j < layers.size(); ++j) {
    const LayerSpec &c = layers[j];
    if (c.input != i) continue;
    const bool synaptic = c.kind == LayerSpec::Linear || c.kind == LayerSpec::Conv2d;
    if (c.kind == LayerSpec::Cell || (synaptic && !syn[j].events)) return false;
  }
  return true;
}

void MemoryPlan::begin_pass(const std::vector<LayerSpec> &layers, int64_t rows) {
  largest_ = 0;  // the largest activation or state buffer of this pass
  for (const LayerSpec &l : layers)
    if (l.kind != LayerSpec::Conv2d || l.fused_pool < 0)  // (fused: its pool's)
      largest_ = std::max<size_t>(
          largest_, static_cast<size_t>(rows * elements(l.shape) * std::max<int64_t>(1, l.states)));
  std::fill(recompute_.begin(), recompute_.end(), false);
  std::fill(alias_.begin(), alias_.end(), -1);
}

std::vector<float> MemoryPlan::acquire(size_t size) {
  // the smallest spare buffer that fits without wasting more than half of it
  int best = -1;
  for (int k = 0; k < static_cast<int>(spare_.size()); ++k) {
    size_t cap = spare_[k].capacity();
    if (cap >= size && cap <= 2 * size && (best < 0 || cap < spare_[best].capacity())) best = k;
  }
  if (best < 0) {
    // large buffers get the largest size of this pass, so that any of them can later serve
    // any other large request (a 13 MB buffer freed by one layer cannot hold a 22 MB one)
    std::vector<float> v;
    v.reserve(2 * size >= largest_ && size <= largest_ ? largest_ : size);
    v.resize(size);
    return v;
  }
  std::vector<float> v = std::move(spare_[best]);
  spare_.erase(spare_.begin() + best);
  v.resize(size);
  return v;
}

void MemoryPlan::release(std::vector<float> &v) {
  if (v.capacity() > 0) spare_.push_back(std::move(v));
  v = std::vector<float>();
}

void MemoryPlan::trim() {
  spare_.clear();
  spare_.shrink_to_fit();
}

size_t MemoryPlan::spare_bytes() const {
  size_t bytes = 0;
  for (const auto &v : spare_) bytes += v.capacity() * sizeof(float);
  return bytes;
}

}  // namespace snnc::rt::nn
