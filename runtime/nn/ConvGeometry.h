// ConvGeometry.h — the shape arithmetic of one 2-D convolution (input, kernel, stride,
// padding, output), shared by the conv kernels of Conv.cpp and ConvSums.cpp. Internal to
// runtime/nn.
#pragma once
#include <cstdint>
#include <vector>

#include "Layers.h"

namespace snnc::rt::nn {

struct Geometry {
  int64_t C, H, W, K, S, P, OH, OW, Cout;
  int64_t ckk() const { return C * K * K; }
  int64_t hw() const { return OH * OW; }
  int64_t in_size() const { return C * H * W; }
  /// Values per output channel after a k x k max-pool of stride k (no padding).
  int64_t pooled_hw(int64_t k) const { return ((OH - k) / k + 1) * ((OW - k) / k + 1); }
};

inline Geometry geometry(const std::vector<int64_t> &in, const LayerSpec &l) {
  Geometry g{in[0], in[1], in[2], l.kernel, l.stride, l.padding, 0, 0, l.channels};
  g.OH = (g.H + 2 * g.P - g.K) / g.S + 1;
  g.OW = (g.W + 2 * g.P - g.K) / g.S + 1;
  return g;
}

}  // namespace snnc::rt::nn
