// TimeSegments.cpp — training over time segments: the boundaries between segments, and
// Network's forward and backward passes segment by segment.
#include "TimeSegments.h"

#include <stdexcept>
#include <utility>

#include "Network.h"

namespace snnc::rt::nn {

int TimeSegments::plan(const std::vector<LayerSpec> &layers, const float *input,
                       int64_t steps_in_all, int64_t B) {
  for (const LayerSpec &l : layers)
    if (l.kind == LayerSpec::Cell && l.spiking && (!l.forward_from || !l.backward_from))
      throw std::runtime_error("training over time segments: cell '" + l.name +
                               "' has no kernels that start from a given state");
  const int segments = static_cast<int>((steps_in_all + steps - 1) / steps);
  x = input;
  T = steps_in_all;
  dropout_calls.assign(segments, 0);
  boundary.resize(layers.size());
  for (size_t i = 0; i < layers.size(); ++i)
    if (layers[i].kind == LayerSpec::Cell && layers[i].spiking)  // (states, then spikes)
      boundary[i].resize(static_cast<size_t>((segments - 1) * (layers[i].states + 1) * B *
                                             elements(layers[i].shape)));
  return segments;
}

void TimeSegments::save(int i, const LayerSpec &l, const float *out, const float *last_state,
                        int64_t steps_run, int64_t n) {
  // (the first pass of a segmented forward, not backward's reruns; not the last segment)
  if (count == 0 || rerun || !l.spiking || current + 1 >= count) return;
  const int64_t S = l.states;
  float *b = boundary[i].data() + current * (S + 1) * n;
  std::copy(last_state, last_state + S * n, b);
  std::copy(out + (steps_run - 1) * n, out + steps_run * n, b + S * n);
}

size_t TimeSegments::bytes() const {
  size_t bytes = 0;
  for (const auto &v : boundary) bytes += v.capacity() * sizeof(float);
  bytes += (last_out.capacity() + last_post.capacity()) * sizeof(float);
  return bytes;
}

const std::vector<float> &Network::forward_segments(const float *x, int64_t T, int64_t B) {
  const int count = seg_.plan(layers_, x, T, B);
  // the first pass keeps only what the loss and the boundaries need (forward-only memory),
  // except in the last segment, whose backward comes first: it keeps what backward reads
  const int64_t K = features(output_), S_out = layers_[output_].states;
  std::vector<float> out = mem_.acquire(static_cast<size_t>(T * B * K)), post;
  if (S_out > 0) post = mem_.acquire(static_cast<size_t>(T * S_out * B * K));
  struct Restore {  // (training-pass memory again even if a layer throws)
    bool &forward_only;
    ~Restore() { forward_only = false; }
  } restore{forward_only_};
  seg_.count = count;
  for (int k = 0; k < count; ++k) {
    seg_.current = k;
    seg_.dropout_calls[k] = dropout_calls_;
    const int64_t t0 = seg_.start(k), len = seg_.length(k);
    forward_only_ = k + 1 < count;
    const auto &y = forward_steps(x + t0 * B * features(0), len, B);
    std::copy(y.begin(), y.begin() + len * B * K, out.begin() + t0 * B * K);
    if (S_out > 0)
      std::copy(post_[output_].begin(), post_[output_].begin() + len * S_out * B * K,
                post.begin() + t0 * S_out * B * K);
  }
  seg_.dropout_calls_after = dropout_calls_;
  // the output for all steps in place of the last segment's (kept aside for its backward)
  seg_.last_out = std::move(act_[output_]);
  seg_.last_post = std::move(post_[output_]);
  act_[output_] = std::move(out);
  post_[output_] = std::move(post);
  return act_[output_];
}

void Network::backward_segments(const float *g_out, const float *g_state) {
  const int64_t B = B_, K = features(output_), S_out = layers_[output_].states;
  mem_.release(act_[output_]);  // (the whole sequence's, read by the loss)
  mem_.release(post_[output_]);
  act_[output_] = std::move(seg_.last_out);  // the last segment's, as its forward left them
  post_[output_] = std::move(seg_.last_post);
  for (int k = seg_.count - 1; k >= 0; --k) {
    seg_.current = k;
    const int64_t t0 = seg_.start(k), len = seg_.length(k);
    if (k + 1 < seg_.count) {                  // (the last one's forward ran last)
      dropout_calls_ = seg_.dropout_calls[k];  // the first pass's masks again
      seg_.rerun = true;
      forward_steps(seg_.x + t0 * B * features(0), len, B);
      seg_.rerun = false;
    }
    backward_steps(g_out + t0 * B * K, g_state ? g_state + t0 * S_out * B * K : nullptr);
  }
  dropout_calls_ = seg_.dropout_calls_after;
}

}  // namespace snnc::rt::nn
