// Model.h — the IR of trainable layer networks (the `experiment` side of the language).
//
// A Model is a feed-forward chain of tensor ops over all time steps at once (linear,
// conv2d, pooling, flatten) and cells: neuron definitions used as activations. A cell
// carries its per-element dynamics as statements; the `autodiff` pass derives from them
// the per-step forward kernel and the reverse-time (BPTT) backward kernel, with the
// surrogate replacing the derivative of the spike function.
//
// Semantics of a spiking cell at step t for each element (the snnTorch `Leaky` contract):
//   spiked = spk[t-1] (0 at t = 0), the reset signal, detached from the gradient;
//   the `step` statements run in order, updating the state from s[t-1] to s[t] given I[t];
//   h = lhs - rhs of the spike condition `lhs > rhs` at s[t]; spk[t] = h > 0.
// A stateless cell (`output = f(I)`) maps I[t] to f(I[t]).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "IR.h"

namespace snnc::ir {

struct Cell {
  std::string name;              ///< the layer it belongs to, e.g. "c1"
  std::string neuron;            ///< the neuron definition
  std::vector<Param> params;     ///< constants after folding
  std::vector<StateVar> states;  ///< init: constants
  std::vector<Stmt> step;        ///< the discrete update (Set statements in order)
  ExprPtr threshold;             ///< `lhs > rhs`; null for a stateless cell
  std::string surrogate = "fast_sigmoid";
  std::vector<Param> surrogate_params;  ///< e.g. slope = 25
  ExprPtr output;                       ///< stateless cells: output = f(I)
  bool detach_reset = true;
  // after autodiff:
  bool differentiated = false;
  ExprPtr h;                  ///< surrogate input at s[t] (names `_post_<state>`)
  std::vector<ExprPtr> next;  ///< s[t] as expressions of s[t-1], I, spiked
  std::vector<Stmt>
      backward;  ///< one reverse step: reads _g_spk, _a_<state>; sets _g_I, _a_<state>
};

struct Layer {
  enum Kind { Input, Linear, Conv2d, MaxPool, AvgPool, Flatten, Dropout, CellOp } kind = Input;
  std::string name;            ///< unique op name (`c1.conv2d`, `y.linear`, `c1` for the cell)
  int input = -1;              ///< index of the producing layer
  std::vector<int64_t> shape;  ///< output shape per sample (channels first)
  int64_t out_features = 0;    ///< Linear
  int64_t channels = 0, kernel = 0, stride = 1, padding = 0;  ///< Conv2d, pools
  double rate = 0;                                            ///< Dropout
  int cell = -1;                                              ///< CellOp: index into Model::cells
  /// Linear, Conv2d: dense GEMM, event-driven (nonzero inputs only), or chosen per pass from
  /// the measured input density against event_threshold (set by the `plan-synapses` pass).
  enum class Synapse { Auto, Dense, Event } synapse = Synapse::Auto;
  double event_threshold = -1;  ///< -1: not planned yet
  int fused_pool = -1;  ///< Conv2d: the max-pool layer computed inside it (`fuse-conv-pool`)
  /// Linear: the fraction of connections absent (a fixed random mask drawn at
  /// initialisation; the layer is computed from the kept connections only). 0: dense.
  double sparsity = 0;
  /// Linear with sparsity: computed over the kept connections only (compressed), else as a
  /// dense or event-driven layer whose absent weights are zero (set by `plan-synapses`).
  bool compressed = false;
  SourceLoc loc;
};

struct Model {
  std::string name;
  std::vector<Layer> layers;  ///< in execution order; layers[0] is the input
  std::vector<Cell> cells;
  int output = -1;  ///< the output layer
};

/// Textual form (what `snnc emit --ir` prints; ModelParser reads it back).
std::string print(const Model &model);

/// The keyword of a layer kind in the text form (`linear`, `cell`...).
const char *layer_kind_name(Layer::Kind kind);
/// The kind whose keyword is `name` into *kind; false for any other name.
bool layer_kind_from_name(const std::string &name, Layer::Kind *kind);

/// The readout: the last linear layer, or -1 (magnitude pruning and the benchmark's
/// --sparsity leave it dense).
inline int readout_layer(const Model &model) {
  int readout = -1;
  for (size_t i = 0; i < model.layers.size(); ++i)
    if (model.layers[i].kind == Layer::Linear) readout = static_cast<int>(i);
  return readout;
}

}  // namespace snnc::ir
