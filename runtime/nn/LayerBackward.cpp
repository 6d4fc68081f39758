// LayerBackward.cpp — a network layer's backward step, one function per layer kind.
#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <utility>

#include "CellScan.h"
#include "Network.h"
#include "Ops.h"
#include "Parallel.h"

namespace snnc::rt::nn {

struct Network::BackwardStep {
  int i;
  const LayerSpec &l, &src;
  int64_t rows;  ///< T_ * B_
  /// a cell that is its input's only consumer writes the input gradient over its output's
  /// (no zeroed buffer, no accumulation)
  bool overwrite;
  bool first_gradient;       ///< g_in was empty (else another consumer's is there to add to)
  int pool_layer;            ///< a conv's fused max-pool, or -1
  std::vector<float> &g_in;  ///< the input's gradient
  const float *x;            ///< the input
  const float *g_state;      ///< backward's g_state (the output cell's)
  int64_t in_f() const { return elements(src.shape); }
  bool need_input_grad() const { return l.input > 0; }  ///< (the network input needs none)
};

void Network::backward_layer(int i, const float *g_state) {
  const LayerSpec &l = layers_[i];
  const int64_t rows = T_ * B_;
  const LayerSpec &src = layers_[l.input];
  std::vector<float> &g_in = grad_[l.input];
  const int64_t in_f = elements(src.shape);
  const bool need_input_grad = l.input > 0;  // the network input needs no gradient
  const bool overwrite = g_in.empty() && mem_.consumers(l.input) == 1 && l.kind == LayerSpec::Cell;
  const bool first_gradient = g_in.empty();
  if (first_gradient && need_input_grad && !overwrite) {
    g_in = mem_.acquire(rows * in_f);
    float *gi = g_in.data();
    if (l.kind != LayerSpec::Linear)  // (a linear layer writes its first one whole)
      parallel_for(rows * in_f, 1 << 16,
                   [&](int64_t k0, int64_t k1) { std::fill(gi + k0, gi + k1, 0.f); });
  }
  const int pool_layer = l.kind == LayerSpec::Conv2d ? l.fused_pool : -1;
  const float *x = data_of(l.input);
  const BackwardStep s{i, l, src, rows, overwrite, first_gradient, pool_layer, g_in, x, g_state};
  auto t0 = std::chrono::steady_clock::now();
  switch (l.kind) {
    case LayerSpec::Linear:
      backward_linear(s);
      break;
    case LayerSpec::Conv2d:
      backward_conv(s);
      break;
    case LayerSpec::MaxPool:
      backward_maxpool(s);
      break;
    case LayerSpec::AvgPool:
      backward_avgpool(s);
      break;
    case LayerSpec::Flatten:
      backward_flatten(s);
      break;
    case LayerSpec::Dropout:
      backward_dropout(s);
      break;
    case LayerSpec::Cell:
      backward_cell(s);
      break;
    default:
      throw std::logic_error("unknown layer kind");
  }
  bwd_s_[i] += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void Network::backward_linear(const BackwardStep &s) {
  const int i = s.i;
  const LayerSpec &l = s.l;
  const int64_t out_f = elements(l.shape);
  Param &w = params_[weight_of_[i]], &b = params_[bias_of_[i]];
  if (l.compressed) {  // the input gradient by GEMM with the zero-filled dense weight
    sparse_linear_backward(sparse_[i], events_[i], grad_[i].data(), nullptr, w.grad.data(),
                           b.grad.data());
    if (s.need_input_grad())
      linear_input_grad(grad_[i].data(), w.value.data(), s.g_in.data(), s.rows, s.in_f(), out_f,
                        !s.first_gradient);
    return;
  }
  linear_backward(s.x, w.value.data(), grad_[i].data(),
                  s.need_input_grad() ? s.g_in.data() : nullptr, w.grad.data(), b.grad.data(),
                  s.rows, s.in_f(), out_f,
                  syn_[i].events || (syn_[i].narrow && syn_[i].narrow_kept) ? &events_[i] : nullptr,
                  syn_[i].narrow, !s.first_gradient);
  if (syn_[i].narrow_kept) {  // (read once: freed before the layers below run)
    events_[i] = Events();
    syn_[i].narrow_kept = false;
  }
  if (l.sparsity > 0) mask_gradient(i);  // absent stay absent
}

void Network::backward_conv(const BackwardStep &s) {
  const int i = s.i, pool_layer = s.pool_layer;
  Param &w = params_[weight_of_[i]], &b = params_[bias_of_[i]];
  FusedPoolGrad fused;
  if (pool_layer >= 0)
    fused = {layers_[pool_layer].kernel, grad_[pool_layer].data(), argmax_[pool_layer].data()};
  conv2d_backward(s.x, w.value.data(), pool_layer >= 0 ? nullptr : grad_[i].data(),
                  s.need_input_grad() ? s.g_in.data() : nullptr, w.grad.data(), b.grad.data(),
                  s.rows, s.src.shape, s.l, syn_[i].events ? &events_[i] : nullptr,
                  pool_layer >= 0 ? &fused : nullptr);
  if (pool_layer >= 0) mem_.release(grad_[pool_layer]);
}

void Network::backward_maxpool(const BackwardStep &s) {
  maxpool_backward(grad_[s.i].data(), s.g_in.data(), argmax_[s.i], s.rows, s.src.shape, s.l);
}

void Network::backward_avgpool(const BackwardStep &s) {
  avgpool_backward(grad_[s.i].data(), s.g_in.data(), s.rows, s.src.shape, s.l);
}

void Network::backward_flatten(const BackwardStep &s) {
  float *gi = s.g_in.data();
  const float *go = grad_[s.i].data();
  parallel_for(static_cast<int64_t>(s.g_in.size()), 1 << 14, [&](int64_t k0, int64_t k1) {
    for (int64_t k = k0; k < k1; ++k) gi[k] += go[k];
  });
}

void Network::backward_dropout(const BackwardStep &s) {
  const int i = s.i;
  std::vector<float> &g_in = s.g_in;
  for (size_t k = 0; k < g_in.size(); ++k)
    g_in[k] += grad_[i][k] * (mask_[i].empty() ? 1.f : mask_[i][k]);
}

void Network::backward_cell(const BackwardStep &s) {
  const int i = s.i;
  const LayerSpec &l = s.l;
  const int64_t rows = s.rows, out_f = elements(l.shape), n = B_ * out_f;
  const float *x = s.x;
  if (!s.overwrite) scratch_.resize(rows * out_f);
  // the adjoints of the states after this pass's last step: zero, or carried from the
  // segment after this one
  if (carry_[i].empty())
    carry_[i].assign(static_cast<size_t>(std::max<int64_t>(l.states, 1) * n), 0.f);
  const float *prev = seg_.prev(i, l, n);
  // overwriting: the input gradient is written over the output's (same shape), then
  // becomes the input's gradient buffer
  float *g = s.overwrite ? grad_[i].data() : scratch_.data();
  const float *g_post = i == output_ && s.g_state ? s.g_state : nullptr;
  // rerun the forward scan for the states (and the output, if dropped and read) when
  // forward dropped them or kept only the latest step
  if (mem_.recomputed(i) || post_[i].size() != static_cast<size_t>(T_ * l.states * n)) {
    mem_.release(post_[i]);  // (and the output, if dropped and read)
    post_[i] = mem_.acquire(static_cast<size_t>(T_ * l.states * n));
    const bool all_out = mem_.recomputed(i) && l.backward_reads_output;
    if (all_out) act_[i] = mem_.acquire(static_cast<size_t>(rows * out_f));
    step_out_.resize(static_cast<size_t>(n));  // else only the latest step, in place
    float *o = all_out ? act_[i].data() : step_out_.data(), *p = post_[i].data();
    cell_scan_forward(l, x, o, p, T_, n, all_out ? n : 0, l.states * n, prev);
    // an input the backward kernel does not read goes back to the pool before it runs
    // (a null pointer then: the kernel has no load of it)
    const int j = l.input;
    if (!l.backward_reads_input && mem_.first_consumer(j) == i &&
        layers_[j].kind != LayerSpec::Cell && j != output_) {
      mem_.release(act_[j]);
      x = nullptr;
    }
  }
  const float *out = act_[i].empty() ? nullptr : act_[i].data();
  cell_scan_backward(l, x, out, post_[i].data(), grad_[i].data(), g_post, g, carry_[i].data(), T_,
                     n, prev, s.overwrite ? nullptr : s.g_in.data());
  if (s.overwrite) s.g_in = std::move(grad_[i]);
}

}  // namespace snnc::rt::nn
