// TrainStep.cpp — whole-batch or micro-batched training steps.
#include "TrainStep.h"

#include <algorithm>

namespace snnc::rt::nn {

StepResult train_step(Network &net, const float *x, const int32_t *labels, int64_t T, int64_t B,
                      int64_t micro_batch, const LossFn &loss_fn) {
  net.zero_grad();
  StepResult r;
  const int64_t F = net.features(0);
  const int64_t Bm = micro_batch <= 0 || micro_batch >= B ? B : micro_batch;
  thread_local std::vector<float> slice;
  for (int64_t b0 = 0; b0 < B; b0 += Bm) {
    const int64_t n = std::min(Bm, B - b0);
    const float *xm = x;
    if (n != B) {  // [T][n][F] out of [T][B][F]
      slice.resize(static_cast<size_t>(T * n * F));
      for (int64_t t = 0; t < T; ++t)
        std::copy(x + (t * B + b0) * F, x + (t * B + b0 + n) * F, slice.data() + t * n * F);
      xm = slice.data();
    }
    const auto &out = net.forward(xm, T, n);
    LossResult l = loss_fn(out, labels + b0, n);
    if (n != B) {
      const float scale = static_cast<float>(n) / static_cast<float>(B);
      for (float &g : l.grad) g *= scale;
      for (float &g : l.state_grad) g *= scale;
    }
    net.backward(l.grad.data(), l.state_grad.empty() ? nullptr : l.state_grad.data());
    r.loss += l.loss * static_cast<double>(n) / static_cast<double>(B);
    r.correct += l.correct;
  }
  return r;
}

}  // namespace snnc::rt::nn
