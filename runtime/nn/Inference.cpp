// Inference.cpp — encoders and the batched prediction loop.
#include "Inference.h"

#include <algorithm>
#include <cmath>

#include "Loss.h"

namespace snnc::rt::nn {

void encode(const float *images, int64_t B, int64_t F, const EncoderSpec &e, Rng &rng,
            std::vector<float> &x) {
  int64_t T = e.steps;
  x.assign(T * B * F, 0.f);
  if (e.kind == "direct") {
    for (int64_t s = 0; s < T; ++s) std::copy(images, images + B * F, x.begin() + s * B * F);
  } else if (e.kind ==
             "delta") {  // a static image changes once: spikes at t = 0 where it is bright
    for (int64_t i = 0; i < B * F; ++i) x[i] = images[i] > 0.1f ? 1.f : 0.f;
  } else if (e.kind == "latency") {  // one spike, earlier for brighter pixels; none for black
    for (int64_t i = 0; i < B * F; ++i)
      if (images[i] > 0.f) {
        auto s = static_cast<int64_t>(std::lround((1.0 - images[i]) * (T - 1)));
        x[s * B * F + i] = 1.f;
      }
  } else {  // rate: Bernoulli with the pixel as probability, every step
    for (int64_t s = 0; s < T; ++s)
      for (int64_t i = 0; i < B * F; ++i) x[s * B * F + i] = rng.uniform() < images[i] ? 1.f : 0.f;
  }
}

std::vector<int32_t> predict_batches(const ImageSource &images, int64_t count, int64_t F,
                                     const EncoderSpec &e, uint64_t seed, int64_t batch,
                                     const BatchPredictor &run) {
  Rng rng(seed, 9001);
  std::vector<float> x, batch_images;
  std::vector<int32_t> out;
  batch = std::max<int64_t>(batch, 1);
  for (int64_t begin = 0; begin < count; begin += batch) {
    const int64_t b = std::min<int64_t>(batch, count - begin);
    batch_images.resize(static_cast<size_t>(b * F));
    images(begin, b, batch_images.data());
    encode(batch_images.data(), b, F, e, rng, x);
    const std::vector<int32_t> pred = run(x, batch_images.data(), b);
    out.insert(out.end(), pred.begin(), pred.end());
  }
  return out;
}

std::vector<int32_t> predict(Network &net, const float *images, int64_t count, const EncoderSpec &e,
                             uint64_t seed, bool by_membrane,
                             const std::function<void(int64_t)> &after_batch, int64_t batch) {
  const int64_t F = net.features(0);
  return predict(
      net,
      [&](int64_t first, int64_t n, float *out) {
        std::copy(images + first * F, images + (first + n) * F, out);
      },
      count, e, seed, by_membrane, after_batch, batch);
}

std::vector<int32_t> predict(Network &net, const ImageSource &images, int64_t count,
                             const EncoderSpec &e, uint64_t seed, bool by_membrane,
                             const std::function<void(int64_t)> &after_batch, int64_t batch) {
  const int64_t F = net.features(0), K = net.features(net.output());
  struct ForwardOnly {  // no backward follows prediction: recycle what it would need
    Network &net;
    explicit ForwardOnly(Network &n) : net(n) {
      net.set_forward_only(true);
      net.trim();
    }
    ~ForwardOnly() {
      net.set_forward_only(false);
      net.trim();
    }
  } forward_only(net);
  return predict_batches(
      images, count, F, e, seed, batch, [&](const std::vector<float> &x, const float *, int64_t b) {
        const auto &y = net.forward(x.data(), e.steps, b);
        auto pred = by_membrane ? predict_by_max_membrane(net.post_state(net.output()), e.steps, b,
                                                          K, net.layers()[net.output()].states)
                                : predict_by_count(y, e.steps, b, K);
        if (after_batch) after_batch(b);
        return pred;
      });
}

}  // namespace snnc::rt::nn
