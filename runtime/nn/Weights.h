// Weights.h — puts checkpoint tensors (safetensors) into a network's parameters by name,
// checking that every parameter is there with its shape. Used by resume, trace and the
// standalone binaries.
#pragma once
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "Network.h"
#include "train/Safetensors.h"

namespace snnc::rt::nn {

/// Throws std::runtime_error("SOURCE: no tensor 'NAME' ..." / "... has the wrong shape").
inline void load_weights(Network &net, const std::vector<NamedTensor> &tensors,
                         const std::string &source) {
  for (auto &p : net.params()) {
    const NamedTensor *t = nullptr;
    for (const auto &x : tensors)
      if (x.name == p.name) t = &x;
    if (!t) throw std::runtime_error(source + ": no tensor '" + p.name + "'");
    if (t->shape != p.shape)
      throw std::runtime_error(source + ": tensor '" + p.name + "' has the wrong shape");
    p.value = t->data;
  }
  // a sparse layer's mask is read from the zeros of its weights: a checkpoint with clearly
  // more connections than the layer keeps is another network's
  for (const auto &l : net.layers()) {
    if (l.kind != LayerSpec::Linear || l.sparsity <= 0) continue;
    for (const auto &p : net.params()) {
      if (p.name != l.name + ".weight" || p.value.empty()) continue;
      double kept = 0;
      for (float v : p.value) kept += v != 0.f;
      const double n = static_cast<double>(p.value.size()), expect = 1 - l.sparsity;
      const double allowed = expect + 0.01 + 5 * std::sqrt(expect * (1 - expect) / n);
      if (kept / n > allowed)
        throw std::runtime_error(source + ": tensor '" + p.name + "' has " +
                                 std::to_string(static_cast<int>(100 * kept / n + 0.5)) +
                                 " % nonzero weights, but the layer keeps " +
                                 std::to_string(static_cast<int>(100 * expect + 0.5)) +
                                 " % of its connections (sparsity " + std::to_string(l.sparsity) +
                                 ")");
    }
  }
  net.refresh_sparsity();
}

}  // namespace snnc::rt::nn
