// TransposedWeights.h — per event-driven linear layer of a network (runtime/nn/Network), its
// weight transposed for the event kernels ([in][out], rows padded to whole 64-byte lines),
// cached with a copy of the weight it was made from: the cache holds while the weights are
// bit for bit the same, whoever writes them (an optimizer, a checkpoint load, a test).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "Aligned.h"

namespace snnc::rt::nn {

class TransposedWeights {
 public:
  /// For `layers` layers, none cached.
  void resize(size_t layers);
  /// A new forward pass: each cached transpose is compared with its weights on its next use.
  void recheck();
  /// The transpose of layer's weight w [out][in] (rebuilt when stale).
  float *get(int layer, const float *w, int64_t in, int64_t out);
  /// its distance between rows: out rounded up to whole 64-byte lines
  static int64_t ld(int64_t out) { return (out + 15) / 16 * 16; }
  size_t bytes() const;

 private:
  std::vector<AlignedFloats> transposed_;
  std::vector<std::vector<float>> source_;  ///< the weight each transpose was made from
  std::vector<char> checked_;               ///< compared with the weights since the last recheck()
};

}  // namespace snnc::rt::nn
