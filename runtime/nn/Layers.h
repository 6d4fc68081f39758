// Layers.h — the description of a trainable network's layers that every executor shares
// (runtime/nn/Network, runtime/cuda/DeviceNetwork, the standalone binaries): layer kinds and
// shapes, cell kernel signatures, parameters. Self-contained (standard headers only), so that
// run-time compiled CUDA code can include it.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace snnc::rt::nn {

/// Cell scan kernels (see backends/llvm/CellCodeGen.h): elements [0, N) of rows of length ld.
/// The forward writes step t of out at t*out_stride and of post at t*post_stride (ld and
/// S*ld: every step; 0: only the latest, rewritten in place).
using CellForward = void (*)(const float *I, float *out, float *post, int64_t T, int64_t N,
                             int64_t ld, int64_t out_stride, int64_t post_stride);
/// (g_post may be null: no loss on the state.)
using CellBackward = void (*)(const float *I, const float *out, const float *post,
                              const float *g_out, const float *g_post, float *g_I, float *carry,
                              int64_t T, int64_t N, int64_t ld);
/// The same scans starting after a given step instead of at rest (training over time
/// segments): `prev` holds that step's states [S][ld], then its spikes [ld].
using CellForwardFrom = void (*)(const float *I, float *out, float *post, int64_t T, int64_t N,
                                 int64_t ld, int64_t out_stride, int64_t post_stride,
                                 const float *prev);
using CellBackwardFrom = void (*)(const float *I, const float *out, const float *post,
                                  const float *g_out, const float *g_post, float *g_I, float *carry,
                                  int64_t T, int64_t N, int64_t ld, const float *prev);

/// How a linear/conv layer propagates its input: dense (GEMM), event-driven (only the
/// nonzero inputs, see Events.h), or chosen per forward pass from the measured input density.
enum class Synapse { Auto, Dense, Event };
const char *synapse_name(Synapse s);
Synapse synapse_from_name(const std::string &name);  ///< throws on an unknown name

/// A max-pool's winner for one output: the offset ky*K + kx of the chosen input in its K x K
/// window (one byte per pooled value instead of a 4-byte index), or kNoWinner (the window
/// lies in the padding). Max-pool kernels are limited to 15 (K*K < 255) by the frontend.
using Winner = uint8_t;
constexpr Winner kNoWinner = 255;

struct LayerSpec {
  /// (Plan.cpp names each kind; adding one means a name there and its kernels in each executor)
  enum Kind { Input, Linear, Conv2d, MaxPool, AvgPool, Flatten, Dropout, Cell } kind = Input;
  std::string name;
  std::string cell;  ///< Cell: the cell's name (what kernels are looked up by)
  int input = -1;
  std::vector<int64_t> shape;  ///< output shape of one sample
  int64_t out_features = 0, channels = 0, kernel = 0, stride = 1, padding = 0;
  double rate = 0;
  CellForward forward = nullptr;
  CellBackward backward = nullptr;
  /// (stateful cells, where the executor has them: the JIT; null elsewhere)
  CellForwardFrom forward_from = nullptr;
  CellBackwardFrom backward_from = nullptr;
  int64_t states = 0;  ///< state variables per element (0: stateless cell)
  bool spiking = false;
  Synapse synapse = Synapse::Auto;  ///< Linear, Conv2d
  int fused_pool = -1;         ///< Conv2d: the max-pool layer it computes (fuse-conv-pool), or -1
  double event_threshold = 0;  ///< Auto: events below this input density (the
                               ///< compiler's plan-synapses pass sets it)
  double sparsity = 0;         ///< Linear: fraction of connections absent (fixed mask; see Network)
  bool compressed = false;     ///< Linear with sparsity: kept connections only (else dense/events)
  /// Cell: whether the backward kernel reads the input current / the spikes (the compiler
  /// knows from the derived backward step); when not, the memory plan frees them early.
  bool backward_reads_input = true, backward_reads_output = true;
};

struct Param {
  std::string name;  ///< e.g. "y.linear.weight"
  std::vector<int64_t> shape;
  std::vector<float> value, grad;
};

/// The number of values of a tensor of this shape.
inline int64_t elements(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

}  // namespace snnc::rt::nn
