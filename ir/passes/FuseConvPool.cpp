// FuseConvPool.cpp — marks conv2d layers that compute the max-pool after them.
#include "passes/FuseConvPool.h"

namespace snnc::ir {

int fuse_conv_pool(Model &m) {
  const int n = static_cast<int>(m.layers.size());
  std::vector<int> consumers(n, 0), consumer(n, -1);
  for (int i = 0; i < n; ++i)
    if (m.layers[i].input >= 0) {
      ++consumers[m.layers[i].input];
      consumer[m.layers[i].input] = i;
    }
  int fused = 0;
  for (int i = 0; i < n; ++i) {
    Layer &conv = m.layers[i];
    conv.fused_pool = -1;
    if (conv.kind != Layer::Conv2d || consumers[i] != 1 || i == m.output) continue;
    const Layer &pool = m.layers[consumer[i]];
    if (pool.kind != Layer::MaxPool || pool.kernel != pool.stride || pool.padding != 0) continue;
    conv.fused_pool = consumer[i];
    ++fused;
  }
  return fused;
}

}  // namespace snnc::ir
