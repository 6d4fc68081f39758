// TransposedWeights.cpp — the cached transposed weights of event-driven linear layers.
#include "TransposedWeights.h"

#include <algorithm>
#include <atomic>
#include <cstring>

#include "Parallel.h"

namespace snnc::rt::nn {

void TransposedWeights::resize(size_t layers) {
  transposed_.resize(layers);
  source_.resize(layers);
  checked_.assign(layers, false);
}

void TransposedWeights::recheck() {
  std::fill(checked_.begin(), checked_.end(), false);
}

float *TransposedWeights::get(int i, const float *w, int64_t in_f, int64_t out) {
  AlignedFloats &wt = transposed_[i];
  std::vector<float> &source = source_[i];
  if (checked_[i]) return wt.data();  // (this training step's weights: checked)
  const auto n = static_cast<size_t>(in_f * out);
  // compare with the weights the cached transpose was made from (an optimizer, a checkpoint
  // load or a test may write them through their own pointers at any time): a read of the
  // weights instead of a strided transpose when nothing changed
  std::atomic<bool> changed{source.size() != n};
  if (!changed)
    parallel_for(static_cast<int64_t>(n), 1 << 16, [&](int64_t k0, int64_t k1) {
      if (!changed.load(std::memory_order_relaxed) &&
          std::memcmp(w + k0, source.data() + k0, static_cast<size_t>(k1 - k0) * sizeof(float)))
        changed = true;
    });
  checked_[i] = true;
  if (!changed) return wt.data();
  // rows padded to whole 64-byte lines, from a 64-byte boundary; the copy and the transpose
  // split between threads, each element written once (the padding too: no zeroing pass)
  const int64_t ld = TransposedWeights::ld(out);
  source.resize(n);
  wt.resize(static_cast<size_t>(in_f * ld));
  float *t = wt.data(), *copy = source.data();
  parallel_for(in_f, 64, [&](int64_t k0, int64_t k1) {
    std::copy(w + k0 * out, w + k1 * out, copy + k0 * out);  // (n = in_f * out)
    for (int64_t k = k0; k < k1; ++k) {
      for (int64_t o = 0; o < out; ++o) t[k * ld + o] = w[o * in_f + k];
      std::fill(t + k * ld + out, t + (k + 1) * ld, 0.f);
    }
  });
  return t;
}

size_t TransposedWeights::bytes() const {
  size_t bytes = 0;
  for (const auto &w : transposed_) bytes += w.capacity() * sizeof(float);
  for (const auto &w : source_) bytes += w.capacity() * sizeof(float);
  return bytes;
}

}  // namespace snnc::rt::nn
