// Weights.h — puts checkpoint tensors (safetensors) into a network's parameters by name,
// checking that every parameter is there with its shape. Used by resume, trace and the
// standalone binaries.
#pragma once
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
  net.refresh_sparsity();
}

}  // namespace snnc::rt::nn
