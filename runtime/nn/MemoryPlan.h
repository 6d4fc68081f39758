// MemoryPlan.h — the memory plan of a layer network (runtime/nn/Network): the liveness of
// each layer's output (its consumers, its first and last reader, whether backward reads it),
// the decisions of the current pass (cells that backward recomputes instead of keeping,
// layers read in place), and the pool of spare buffers that outputs and gradients nobody
// reads any more go back to and later ones are taken from.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "Layers.h"
#include "OpStats.h"

namespace snnc::rt::nn {

class MemoryPlan {
 public:
  /// Plans the liveness of `layers` (output: the network's output layer).
  void plan(const std::vector<LayerSpec> &layers, int output);
  int consumers(int layer) const { return consumers_[layer]; }
  /// The layer's first / last consumer, or -1 (backward runs the first one last).
  int first_consumer(int layer) const { return first_consumer_[layer]; }
  int last_use(int layer) const { return last_use_[layer]; }
  /// Whether backward reads the layer's output (the input of a cell or synaptic op, a cell's
  /// output, the network's input and output).
  bool kept(int layer) const { return keep_[layer]; }
  /// A layer whose output backward does without (a conv that computes its max-pool).
  void not_kept(int layer) { keep_[layer] = false; }
  /// After its consumers' forward: whether backward can do without a layer's output (a
  /// cell's is then recomputed by its own backward; any other's is not needed at all), given
  /// the paths its synaptic consumers took.
  static bool recomputable(const std::vector<LayerSpec> &layers, int output,
                           const std::vector<SynapseStats> &syn, int layer);

  /// A new forward pass of `rows` rows (T * B): no cell recomputed and nothing read in place
  /// yet, and the size class of large buffers (acquire) is this pass's largest buffer.
  void begin_pass(const std::vector<LayerSpec> &layers, int64_t rows);
  /// Cells whose output and states backward regenerates (set once their consumers ran).
  bool recomputed(int cell) const { return recompute_[cell]; }
  void recompute(int cell) { recompute_[cell] = true; }
  /// The layer whose buffer a layer reads as its own (a flatten in a forward-only pass: the
  /// same floats in the same order, not copied), or -1.
  int alias(int layer) const { return alias_[layer]; }
  void read_in_place(int layer, int source) { alias_[layer] = source; }

  /// A buffer of `size` floats: a spare one that fits, else a new one.
  std::vector<float> acquire(size_t size);
  /// Gives v's storage to the pool (v is left empty).
  void release(std::vector<float> &v);
  /// Frees the spare buffers.
  void trim();
  size_t spare_bytes() const;

 private:
  std::vector<int> consumers_, last_use_, first_consumer_;
  std::vector<bool> keep_;
  std::vector<bool> recompute_;
  std::vector<int> alias_;
  std::vector<std::vector<float>> spare_;
  size_t largest_ = 0;  ///< the largest buffer of the current pass (acquire's size class)
};

}  // namespace snnc::rt::nn
