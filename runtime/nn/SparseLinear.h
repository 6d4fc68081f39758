// SparseLinear.h — linear layers with a fixed fraction of their connections absent (`linear(N,
// sparsity = p)`): computed from the kept connections only, stored compressed by input
// (CSC), so the work scales with the kept connections and the active inputs. Parameters and
// checkpoints keep the dense [out][in] weight with zeros for absent connections (what
// PyTorch reads); the absent entries never receive a gradient, so they stay zero.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "Events.h"

namespace snnc::rt::nn {

struct SparseConnections {
  int64_t in = 0, out = 0;
  std::vector<int64_t> start;   ///< in + 1 offsets: the kept connections of input i
  std::vector<int32_t> target;  ///< the output of each kept connection
  std::vector<int64_t> weight;  ///< its index in the dense weight [out][in]
  std::vector<float> value;     ///< its weight, gathered before each forward pass
  int64_t kept() const { return static_cast<int64_t>(target.size()); }
};

/// Magnitude pruning: the `fraction` of w's entries smallest in magnitude become zero (ties:
/// lower index first). Returns how many entries are zero afterwards. Non-finite weights are
/// refused (std::runtime_error): they have no order.
int64_t prune_smallest(std::vector<float> &w, double fraction);

/// The kept connections: the nonzero entries of the dense weight w [out][in].
SparseConnections sparse_connections(const float *w, int64_t out, int64_t in);
/// Zeroes every entry of a dense [out][in] array (weights or their gradient) but the kept
/// connections'.
void zero_absent(const SparseConnections &c, std::vector<float> &dense);
/// Gathers the current weights of the kept connections (after an optimizer step).
void gather_weights(SparseConnections &c, const float *w);
/// y[r] = b + sum over the events (i, v) of row r of v * (kept column i).
void sparse_linear_forward(const SparseConnections &c, const Events &ev, const float *b, float *y);
/// Accumulates g_w (dense, kept entries only), g_b, and g_x when non-null.
void sparse_linear_backward(const SparseConnections &c, const Events &ev, const float *g_y,
                            float *g_x, float *g_w, float *g_b);

}  // namespace snnc::rt::nn
