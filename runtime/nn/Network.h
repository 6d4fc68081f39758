// Network.h — executes a trainable layer network over all time steps at once.
//
// Activations are time-major [T][B][features] (channels first within a sample), so a
// feed-forward synaptic op over all steps is one GEMM of T*B rows, and a cell is one call
// of its generated scan kernel over N = B*features elements. Backward runs the same plan
// in reverse, accumulating parameter gradients. No compiler headers: the cell kernels are
// plain function pointers (JIT-compiled or linked from an object file).
//
// The class keeps the layer plan, its parameters and the buffers of a pass, and runs the
// passes layer by layer; its parts each have a file of their own: the memory plan
// (MemoryPlan.h), fused layers and what they hand on (Fusion.h), op and synapse statistics
// (OpStats.h), training over time segments (TimeSegments.h), the transposed-weight cache
// (TransposedWeights.h), the cells' scans (CellScan.h), and each layer kind's forward and
// backward step (LayerForward.cpp, LayerBackward.cpp).
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "Events.h"
#include "Fusion.h"
#include "Layers.h"
#include "MemoryPlan.h"
#include "OpStats.h"
#include "SparseLinear.h"
#include "TimeSegments.h"
#include "TransposedWeights.h"

namespace snnc::rt::nn {

class Network {
 public:
  Network(std::vector<LayerSpec> layers, int output);
  /// PyTorch's default initialisation for Linear/Conv2d (U(-1/sqrt(fan_in), 1/sqrt(fan_in))
  /// for weights and biases), from the given seed.
  void init_params(uint64_t seed);
  std::vector<Param> &params() { return params_; }
  /// After loading weights: the kept connections of sparse linear layers (`sparsity`), read
  /// from the nonzero entries of their weights.
  void refresh_sparsity();
  /// Zeroes the gradients of absent connections (for gradients computed densely elsewhere,
  /// e.g. on a GPU), so that they stay absent.
  void mask_gradients();
  void mask_gradient(int layer);  ///< the same for one layer
  /// Magnitude pruning during training: in every linear layer but the last (the readout),
  /// the `fraction` of weights smallest in magnitude become zero and the layer becomes
  /// sparse (computed compressed from `compressed_from` on). Returns, per pruned layer, its
  /// name and kept fraction.
  std::vector<std::pair<std::string, double>> prune(double fraction, double compressed_from);
  /// Zeroes the absent connections' weights of sparse layers (after an optimizer step whose
  /// state predates a pruning, which could otherwise revive them).
  void apply_weight_masks();
  const std::vector<LayerSpec> &layers() const { return layers_; }
  int output() const { return output_; }

  /// Training mode enables dropout (inverted: kept values scaled by 1/(1-p)), with masks
  /// drawn from a stream seeded by `seed` and advanced every forward pass.
  void set_training(bool training, uint64_t seed = 0) {
    training_ = training;
    dropout_seed_ = seed;
  }
  /// x: [T][B][input features], read in place (keep it until backward has run). Returns
  /// the output layer's activation [T][B][out features].
  const std::vector<float> &forward(const float *x, int64_t T, int64_t B);
  /// g_out: gradient of the loss w.r.t. the output activation; g_state (optional): w.r.t.
  /// the output cell's state [T][S][B*K] (membrane losses). Accumulates into Param::grad.
  void backward(const float *g_out, const float *g_state = nullptr);
  /// Training over time segments of `steps` steps (gradient checkpointing over time; 0 or
  /// >= T: off). forward then runs segment by segment keeping only each cell's states and
  /// spikes at segment boundaries (and the output layer's activation and states for all
  /// steps, for the loss); backward reruns each segment's forward from its boundary, last
  /// segment first, and back-propagates through it, carrying the cells' adjoints to the
  /// segment before. Activation memory is then that of `steps` steps, not T, for one more
  /// forward pass. Needs the cells' _from kernels (the JIT provides them). Not used by
  /// forward-only passes or outside training mode. Without dropout, loss and gradients
  /// equal the whole-sequence ones up to float rounding; dropout masks are drawn per
  /// segment (the rerun draws the same ones), so with dropout they are other masks than a
  /// whole-sequence pass would draw (equally random, not the same numbers).
  void set_segment_steps(int64_t steps) { seg_.steps = steps; }
  int64_t segment_steps() const { return seg_.steps; }
  void zero_grad();
  /// The next dropout mask of `layer` (n values: 0 or 1/(1-p)) into `mask` (its storage
  /// reused), drawn from the stream the training forward pass uses.
  void draw_dropout_mask(int layer, std::vector<float> &mask, size_t n);
  /// The same draw as keep flags (0 or 1), for an executor elsewhere (the GPU) that applies
  /// the scale itself: both executors drop the same units.
  std::vector<uint8_t> draw_dropout_keep(int layer, size_t n);

  /// After forward: the output of a cell layer or the output layer (the input layer's is
  /// empty: forward reads the caller's x in place, which must stay valid until backward
  /// has run). (Outputs of other ops that backward does not read are recycled by the memory
  /// plan and empty; in training mode, so are the outputs and states of cells that backward
  /// recomputes and of any layer that only event-driven ops, pools, flatten or dropout
  /// consumed; in forward-only mode, everything but cell outputs and the output. A training
  /// pass in time segments holds the output layer's for all steps, other layers' for the
  /// last segment only, and after backward for the first segment only.)
  const std::vector<float> &activation(int layer) const { return act_[layer]; }
  /// Bytes held in activation, state, gradient and scratch buffers (the memory plan's size).
  size_t buffer_bytes() const;
  /// Synaptic operations counted by forward passes since count_ops(true) (OpStats.h).
  using OpCounts = nn::OpCounts;
  const OpCounts &op_counts() const { return ops_.counts(); }
  /// Starts counting (from zero); counting costs a pass over each synaptic op's input.
  void count_ops(bool on) { ops_.start(on); }
  /// Seconds spent per layer in forward and backward since construction (for profiling).
  const std::vector<double> &forward_seconds() const { return fwd_s_; }
  const std::vector<double> &backward_seconds() const { return bwd_s_; }
  /// After forward: a cell's states after each step, [T][S][B*features], for the output
  /// cell and, outside training, every cell whose states are kept; a hidden cell in a
  /// training pass (or forward-only mode) may hold only its latest step, or nothing.
  const std::vector<float> &post_state(int layer) const { return post_[layer]; }
  /// Per layer (linear/conv only): the input density and path of the last forward pass, and
  /// how many passes took each path (OpStats.h).
  using SynapseStats = nn::SynapseStats;
  const std::vector<SynapseStats> &synapse_stats() const { return syn_; }
  /// Forward-only passes (prediction): no backward follows, so only cell outputs and the
  /// output layer's activation and state are kept; the rest is recycled as soon as it has
  /// been read. Off by default (backward may follow any forward).
  void set_forward_only(bool on) { forward_only_ = on; }
  /// Whether, in forward-only passes, an event-driven linear or conv layer may run the cell
  /// after it in the same pass (on by default; off: each layer on its own, for tests and
  /// benchmarks).
  void set_cell_fusion(bool on) { fusion_.set_cells(on); }
  /// Passes that took the fused paths: a cell computed with its synaptic layer, a narrow
  /// readout listing its input from the fused cell's spike bits, an event-path conv listing
  /// its input from them (Fusion.h).
  using FusionStats = nn::FusionStats;
  const FusionStats &fusion_stats() const { return fusion_.stats(); }
  /// Frees the spare buffers of the memory plan (between phases with different batch sizes,
  /// e.g. training at 128 and prediction at 500, so their buffers do not add up).
  void trim();
  /// Overrides every linear/conv layer's choice (the command line's --synapse).
  void force_synapse(Synapse s) {
    for (auto &l : layers_) l.synapse = s;
  }
  int64_t features(int layer) const { return elements(layers_[layer].shape); }

 private:
  // the layer plan and its parameters
  std::vector<LayerSpec> layers_;
  int output_;
  std::vector<Param> params_;
  std::vector<int> weight_of_, bias_of_;   ///< per layer: param index or -1
  std::vector<SparseConnections> sparse_;  ///< per sparse linear layer: kept connections
  bool training_ = false;
  bool forward_only_ = false;
  uint64_t dropout_seed_ = 0, dropout_calls_ = 0;

  // the buffers of a pass over T_ steps of B_ samples (reused through mem_)
  int64_t T_ = 0, B_ = 0;
  const float *input_ = nullptr;                ///< forward's x (layer 0)
  std::vector<std::vector<float>> act_, post_;  ///< per layer
  std::vector<std::vector<float>> grad_;        ///< per layer: d loss / d activation
  std::vector<std::vector<Winner>> argmax_;     ///< max-pool winners (window offsets)
  std::vector<std::vector<float>> mask_;        ///< dropout masks of the last forward
  std::vector<Events>
      events_;  ///< per layer: its input's events (event path; a narrow readout's kept lists)
  std::vector<std::vector<float>> carry_;  ///< per cell: adjoints carried back in time
  std::vector<float> scratch_;             ///< reused by backward
  std::vector<float> step_out_;            ///< one step of a rerun scan's output nobody reads

  MemoryPlan mem_;                 ///< liveness, recomputed cells, the buffer pool
  Fusion fusion_;                  ///< layers computed together, bits and lists handed on
  TransposedWeights weight_t_;     ///< per event-driven linear layer
  OpCounter ops_;                  ///< synaptic ops, when counted
  std::vector<SynapseStats> syn_;  ///< per linear/conv layer
  std::vector<double> fwd_s_, bwd_s_;
  TimeSegments seg_;  ///< training over time segments (set_segment_steps)

  /// A layer's output: the caller's x for the input layer (never copied), else its buffer.
  const float *data_of(int layer) const {
    if (layer == 0) return input_;
    return mem_.alias(layer) >= 0 ? data_of(mem_.alias(layer)) : act_[layer].data();
  }
  /// Whether a forward-only pass keeps this layer's output to its end (the network input,
  /// the caller's; cell outputs, read by reports; the output), so later layers may read it
  /// in place.
  bool kept_to_the_end_of_forward_only(int layer) const {
    return layer == 0 || layer == output_ || layers_[layer].kind == LayerSpec::Cell;
  }
  /// After its consumers' forward: whether backward can do without a layer's output.
  bool recomputable(int layer) const {
    return MemoryPlan::recomputable(layers_, output_, syn_, layer);
  }

  /// One forward / backward pass over the T_ steps at x (the whole sequence or a segment):
  /// each layer's step in turn, then the buffers no later step reads back to the pool.
  const std::vector<float> &forward_steps(const float *x, int64_t T, int64_t B);
  void backward_steps(const float *g_out, const float *g_state);
  void release_after_forward(int layer);
  void release_after_backward(int layer);

  // A layer's step, one function per layer kind (LayerForward.cpp, LayerBackward.cpp).
  struct ForwardStep;             ///< a layer's input and output buffer
  struct BackwardStep;            ///< a layer's input and its input's gradient buffer
  void forward_layer(int layer);  ///< (timed into fwd_s_)
  void forward_linear(const ForwardStep &s);
  void forward_conv(const ForwardStep &s);
  void forward_maxpool(const ForwardStep &s);
  void forward_avgpool(const ForwardStep &s);
  void forward_flatten(const ForwardStep &s);
  void forward_dropout(const ForwardStep &s);
  void forward_cell(const ForwardStep &s);
  void backward_layer(int layer, const float *g_state);  ///< (timed into bwd_s_)
  void backward_linear(const BackwardStep &s);
  void backward_conv(const BackwardStep &s);
  void backward_maxpool(const BackwardStep &s);
  void backward_avgpool(const BackwardStep &s);
  void backward_flatten(const BackwardStep &s);
  void backward_dropout(const BackwardStep &s);
  void backward_cell(const BackwardStep &s);
  /// Whether layer takes the event path this pass (and its input's events listed);
  /// pattern_lists: a linear layer whose forward-only passes may list pattern groups directly.
  /// bits: the input as spike bits (`bit_words` per row), counted instead of the floats and
  /// not listed (the layer lists each row from them).
  bool use_events(int layer, const float *input, int64_t rows, int64_t width,
                  bool pattern_lists = false, const uint16_t *bits = nullptr,
                  int64_t bit_words = 0);

  /// The passes segment by segment (TimeSegments.cpp).
  const std::vector<float> &forward_segments(const float *x, int64_t T, int64_t B);
  void backward_segments(const float *g_out, const float *g_state);
};

}  // namespace snnc::rt::nn
