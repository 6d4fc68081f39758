// Network.cpp — forward and backward of linear/conv/pool/flatten/cell layers.
#include "Network.h"

#include <chrono>
#include <cmath>
#include <stdexcept>

#include "Ops.h"
#include "Parallel.h"
#include "Rng.h"

namespace snnc::rt::nn {

const char *synapse_name(Synapse s) {
  switch (s) {
    case Synapse::Dense:
      return "dense";
    case Synapse::Event:
      return "event";
    default:
      return "auto";
  }
}

Synapse synapse_from_name(const std::string &name) {
  if (name == "auto") return Synapse::Auto;
  if (name == "dense") return Synapse::Dense;
  if (name == "event") return Synapse::Event;
  throw std::invalid_argument("unknown synapse mode '" + name + "' (auto, dense or event)");
}

namespace {

/// Runs fn(first, last) over element ranges of a cell layer, split between threads at
/// multiples of 64 elements (whole vectors for the scan kernels).
template <typename Fn>
void split_elements(int64_t n, Fn &&fn) {
  constexpr int64_t block = 64;
  parallel_for((n + block - 1) / block, 32,
               [&](int64_t b0, int64_t b1) { fn(b0 * block, std::min(n, b1 * block)); });
}

}  // namespace

Network::Network(std::vector<LayerSpec> layers, int output)
    : layers_(std::move(layers)), output_(output) {
  weight_of_.assign(layers_.size(), -1);
  bias_of_.assign(layers_.size(), -1);
  for (size_t i = 0; i < layers_.size(); ++i) {
    const LayerSpec &l = layers_[i];
    int64_t in = l.input >= 0 ? elements(layers_[l.input].shape) : 0;
    auto add = [&](const std::string &suffix, std::vector<int64_t> shape) {
      Param p;
      p.name = l.name + "." + suffix;
      p.shape = std::move(shape);
      p.value.assign(elements(p.shape), 0.f);
      p.grad.assign(p.value.size(), 0.f);
      params_.push_back(std::move(p));
      return static_cast<int>(params_.size()) - 1;
    };
    if (l.kind == LayerSpec::Linear) {
      weight_of_[i] = add("weight", {l.out_features, in});
      bias_of_[i] = add("bias", {l.out_features});
    } else if (l.kind == LayerSpec::Conv2d) {
      int64_t in_channels = layers_[l.input].shape[0];
      weight_of_[i] = add("weight", {l.channels, in_channels, l.kernel, l.kernel});
      bias_of_[i] = add("bias", {l.channels});
    }
  }
  act_.resize(layers_.size());
  fwd_s_.assign(layers_.size(), 0.0);
  bwd_s_.assign(layers_.size(), 0.0);
  post_.resize(layers_.size());
  grad_.resize(layers_.size());
  argmax_.resize(layers_.size());
  mask_.resize(layers_.size());
  events_.resize(layers_.size());
  syn_.resize(layers_.size());
  carry_.resize(layers_.size());
  weight_t_.resize(layers_.size());
  mem_.plan(layers_, output_);
  fusion_.plan_conv_pools(layers_, output_, mem_);  // (where the compiler asked for it)
}

void Network::trim() {
  mem_.trim();
  seg_.trim();
  for (auto &c : carry_) std::vector<float>().swap(c);
  fusion_.trim();
}

size_t Network::buffer_bytes() const {
  size_t bytes = 0;
  auto add = [&](const std::vector<std::vector<float>> &vs) {
    for (const auto &v : vs) bytes += v.capacity() * sizeof(float);
  };
  add(act_);
  add(post_);
  add(grad_);
  bytes += mem_.spare_bytes();
  add(mask_);
  for (const auto &a : argmax_) bytes += a.capacity() * sizeof(Winner);
  for (const auto &e : events_)
    bytes += e.index.capacity() * 4 + e.value.capacity() * 4 + e.start.capacity() * 8;
  add(carry_);
  bytes += seg_.bytes();
  bytes += scratch_.capacity() * sizeof(float);
  bytes += fusion_.bytes();
  bytes += weight_t_.bytes();
  return bytes;
}

bool Network::use_events(int i, const float *input, int64_t rows, int64_t width, bool pattern_lists,
                         const uint16_t *bits, int64_t bit_words) {
  const LayerSpec &l = layers_[i];
  SynapseStats &st = syn_[i];
  st.events = false;
  const bool planned_dense = planned_dense_at_any_density(l);  // (a readout)
  st.narrow = reads_as_narrow(l);
  if (l.synapse == Synapse::Dense && !l.compressed) {
    st.density = -1;
  } else if (planned_dense && (forward_only_ || st.narrow)) {
    // planned dense at any density (a readout): prediction skips the count (a pass over
    // the input) and keeps the density training measured; a narrow layer's row kernel
    // counts the nonzeros itself
  } else {
    // a forward-only pass of a linear layer that pattern tables may serve: the groups listed
    // in the counting pass (no index lists), which the tables read
    const bool direct = pattern_lists && forward_only_ && may_list_patterns(rows, width);
    int64_t nonzero =
        bits     ? count_bits(bits, rows, width, bit_words, events_[i])
        : direct ? count_and_list_patterns(input, rows, width, events_[i], fusion_.pattern_lists())
                 : count_events(input, rows, width, events_[i]);
    st.density =
        static_cast<double>(nonzero) / static_cast<double>(std::max<int64_t>(rows * width, 1));
    st.events = l.synapse == Synapse::Event || l.compressed || st.density < l.event_threshold;
    if (direct && st.events && use_linear_patterns(events_[i])) fusion_.patterns_listed(i);
  }
  if (st.events && !fusion_.has_patterns(i) && !bits) fill_events(input, events_[i]);
  if (!seg_.rerun) ++(st.events ? st.event_passes : st.dense_passes);  // (reruns: no new pass)
  return st.events;
}

void Network::init_params(uint64_t seed) {
  Rng rng(seed, 77);
  for (size_t i = 0; i < layers_.size(); ++i) {
    if (weight_of_[i] < 0) continue;
    Param &w = params_[weight_of_[i]];
    int64_t fan_in = elements(w.shape) / w.shape[0];
    const double sparsity = layers_[i].kind == LayerSpec::Linear ? layers_[i].sparsity : 0.0;
    if (sparsity > 0) {  // each connection kept with probability 1 - sparsity; the bound
      // follows the expected number of kept inputs, as PyTorch's follows fan_in
      double bound = 1.0 / std::sqrt(std::max(1.0, (1 - sparsity) * static_cast<double>(fan_in)));
      for (float &v : w.value) {
        const bool keep = rng.uniform() >= sparsity;
        const double u = rng.uniform();
        v = keep ? static_cast<float>((2 * u - 1) * bound) : 0.f;
        if (keep && v == 0.f) v = static_cast<float>(bound * 1e-6);  // kept means nonzero
      }
      for (float &v : params_[bias_of_[i]].value)
        v = static_cast<float>((2 * rng.uniform() - 1) * bound);
      continue;
    }
    double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
    for (float &v : w.value) v = static_cast<float>((2 * rng.uniform() - 1) * bound);
    for (float &v : params_[bias_of_[i]].value)
      v = static_cast<float>((2 * rng.uniform() - 1) * bound);
  }
  refresh_sparsity();
}

void Network::refresh_sparsity() {
  sparse_.assign(layers_.size(), SparseConnections());
  for (size_t i = 0; i < layers_.size(); ++i)
    if (layers_[i].kind == LayerSpec::Linear && layers_[i].sparsity > 0) {
      const Param &w = params_[weight_of_[i]];
      sparse_[i] = sparse_connections(w.value.data(), w.shape[0], w.shape[1]);
    }
}

void Network::mask_gradients() {
  for (size_t i = 0; i < layers_.size(); ++i) mask_gradient(static_cast<int>(i));
}

void Network::mask_gradient(int i) {
  if (layers_[i].kind != LayerSpec::Linear || layers_[i].sparsity <= 0) return;
  if (sparse_.size() != layers_.size()) refresh_sparsity();
  zero_absent(sparse_[i], params_[weight_of_[i]].grad);
}

namespace {
/// n draws of a dropout pass: 0 where a unit is dropped (probability `rate`), else `kept`.
template <typename T>
void draw_dropout(Rng rng, double rate, T kept, std::vector<T> &out, size_t n) {
  out.resize(n);
  for (T &v : out) v = rng.uniform() < rate ? T{0} : kept;
}
/// The stream of the next dropout draw (every draw advances the position: forward passes
/// and the GPU's keep flags alike).
Rng dropout_stream(uint64_t seed, uint64_t &calls) {
  return Rng(seed, 2000000 + calls++);
}
}  // namespace

std::vector<uint8_t> Network::draw_dropout_keep(int layer, size_t n) {
  std::vector<uint8_t> keep;
  draw_dropout(dropout_stream(dropout_seed_, dropout_calls_), layers_[layer].rate, uint8_t{1}, keep,
               n);
  return keep;
}

void Network::draw_dropout_mask(int layer, std::vector<float> &mask, size_t n) {
  draw_dropout(dropout_stream(dropout_seed_, dropout_calls_), layers_[layer].rate,
               static_cast<float>(1.0 / (1.0 - layers_[layer].rate)), mask, n);
}

std::vector<std::pair<std::string, double>> Network::prune(double fraction,
                                                           double compressed_from) {
  int readout = -1;
  for (size_t i = 0; i < layers_.size(); ++i)
    if (layers_[i].kind == LayerSpec::Linear) readout = static_cast<int>(i);
  std::vector<std::pair<std::string, double>> pruned;
  for (size_t i = 0; i < layers_.size(); ++i) {
    LayerSpec &l = layers_[i];
    if (l.kind != LayerSpec::Linear || static_cast<int>(i) == readout) continue;
    std::vector<float> &w = params_[weight_of_[i]].value;
    const double zeros = static_cast<double>(prune_smallest(w, fraction));
    l.sparsity = zeros / static_cast<double>(w.size());
    l.compressed = l.sparsity >= compressed_from;
    pruned.emplace_back(l.name, 1 - l.sparsity);
  }
  refresh_sparsity();
  return pruned;
}

void Network::apply_weight_masks() {
  for (size_t i = 0; i < sparse_.size(); ++i)
    if (layers_[i].kind == LayerSpec::Linear && layers_[i].sparsity > 0)
      zero_absent(sparse_[i], params_[weight_of_[i]].value);
}

void Network::zero_grad() {
  for (auto &p : params_) std::fill(p.grad.begin(), p.grad.end(), 0.f);
}

const std::vector<float> &Network::forward(const float *x, int64_t T, int64_t B) {
  seg_.count = 0;
  weight_t_.recheck();  // (new weights)
  // (segments only for a training pass that backward follows: a forward of a network in
  // evaluation mode, read afterwards step by step, or one that counts operations, runs
  // whole)
  if (seg_.steps > 0 && seg_.steps < T && training_ && !forward_only_ && !ops_.on())
    return forward_segments(x, T, B);
  return forward_steps(x, T, B);
}

void Network::backward(const float *g_out, const float *g_state) {
  for (auto &c : carry_) c.clear();  // (no later steps: the adjoints start at zero)
  if (seg_.count > 0) return backward_segments(g_out, g_state);
  backward_steps(g_out, g_state);
}

void Network::cell_forward(int i, const float *in, float *out, float *post, int64_t T, int64_t n,
                           int64_t out_stride, int64_t post_stride) const {
  const LayerSpec &l = layers_[i];
  const float *prev = seg_.prev(i, l, n);  // (a segment after the first: its boundary)
  split_elements(n, [&](int64_t n0, int64_t n1) {
    if (prev)
      l.forward_from(in + n0, out + n0, post ? post + n0 : nullptr, T, n1 - n0, n, out_stride,
                     post_stride, prev + n0);
    else  // (post is null for a cell without states)
      l.forward(in + n0, out + n0, post ? post + n0 : nullptr, T, n1 - n0, n, out_stride,
                post_stride);
  });
}

const std::vector<float> &Network::forward_steps(const float *x, int64_t T, int64_t B) {
  T_ = T;
  B_ = B;
  mem_.begin_pass(layers_, T * B);
  fusion_.begin_pass();
  ops_.pass(B);
  for (size_t i = 0; i < layers_.size(); ++i) {
    const LayerSpec &l = layers_[i];
    int64_t rows = T * B, out_f = elements(l.shape);
    if (fusion_.pool_conv(static_cast<int>(i)) >= 0) continue;  // a max-pool its conv computes
    if (l.kind == LayerSpec::Input) {  // read in place (no copy): x outlives backward
      input_ = x;
      continue;
    }
    if (l.kind == LayerSpec::Flatten && forward_only_ && static_cast<int>(i) != output_ &&
        kept_to_the_end_of_forward_only(l.input)) {  // read in place
      mem_.read_in_place(static_cast<int>(i), l.input);
      mem_.release(act_[i]);
      continue;
    }
    const int pool_layer = l.kind == LayerSpec::Conv2d ? l.fused_pool : -1;
    std::vector<float> &y = act_[pool_layer >= 0 ? pool_layer : static_cast<int>(i)];
    const int64_t y_size = rows * elements(layers_[pool_layer >= 0 ? pool_layer : i].shape);
    // a synaptic layer that may compute its cell (if it takes the event path) gets its
    // output buffer only when it does not
    const int cell = fusion_.cell_to_fuse(layers_, output_, mem_, static_cast<int>(i), B,
                                          forward_only_ && seg_.count == 0);
    auto need_y = [&] {
      if (y.empty()) y = mem_.acquire(y_size);
      y.resize(y_size);
    };
    if (cell < 0) need_y();  // (a fused cell's buffer is already sized: a no-op)
    const LayerSpec &src = layers_[l.input];
    const float *in = data_of(l.input);
    const int64_t in_n = rows * elements(src.shape);
    auto t0 = std::chrono::steady_clock::now();
    switch (l.kind) {
      case LayerSpec::Linear: {
        ops_.count(l, src, in, in_n, rows);
        const int64_t in_f = elements(src.shape), out = l.out_features;
        const float *w = params_[weight_of_[i]].value.data(),
                    *b = params_[bias_of_[i]].value.data();
        if (l.compressed) {  // the kept connections only, from the input's events
          if (sparse_.size() != layers_.size() || sparse_[i].in != in_f) refresh_sparsity();
          gather_weights(sparse_[i], w);
          use_events(static_cast<int>(i), in, rows, in_f);
          need_y();
          sparse_linear_forward(sparse_[i], events_[i], b, y.data());
        } else if (use_events(static_cast<int>(i), in, rows, in_f, true)) {
          float *wt = weight_t_.get(static_cast<int>(i), w, in_f, out);
          const PatternLists *listed = fusion_.take_patterns(static_cast<int>(i));
          if (cell >= 0) {  // the cell's output straight from the events: no y
            std::vector<float> &h = act_[cell];
            if (h.empty()) h = mem_.acquire(rows * out);
            h.resize(rows * out);
            CellPass pass{layers_[cell].forward, layers_[cell].states, T, B, h.data()};
            fusion_.hand_bits(layers_, output_, mem_, cell, rows, out, pass);
            linear_cell_forward_events(events_[i], wt, TransposedWeights::ld(out), b, out, pass,
                                       listed);
            fusion_.fused(cell);
          } else {
            need_y();
            linear_forward_events(events_[i], wt, TransposedWeights::ld(out), b, y.data(), out,
                                  listed);
          }
        } else if (syn_[i].narrow) {  // (a readout: the row kernel counts the nonzeros)
          need_y();
          const float *wt = weight_t_.get(static_cast<int>(i), w, in_f, out);
          const bool from_bits = fusion_.bits_for(static_cast<int>(i));
          Events *keep = forward_only_ || from_bits ? nullptr : &events_[i];  // (for backward)
          const int64_t nonzero =
              from_bits ? linear_forward_narrow_bits(fusion_.bits(), (in_f + 15) / 16, wt, b,
                                                     y.data(), rows, in_f, out)
                        : linear_forward_narrow(in, wt, b, y.data(), rows, in_f, out, keep);
          syn_[i].narrow_kept = keep != nullptr;
          fusion_.count_spike_bits(from_bits);
          fusion_.bits_read();
          if (!forward_only_)  // (prediction keeps the density training measured)
            syn_[i].density = static_cast<double>(nonzero) /
                              static_cast<double>(std::max<int64_t>(rows * in_f, 1));
        } else {
          need_y();
          linear_forward(in, w, b, y.data(), rows, in_f, out);
        }
        break;
      }
      case LayerSpec::Conv2d: {
        ops_.count(l, src, in, in_n, rows);
        const float *w = params_[weight_of_[i]].value.data(),
                    *b = params_[bias_of_[i]].value.data();
        FusedPool fused;
        if (pool_layer >= 0) {
          if (!forward_only_) argmax_[pool_layer].resize(y_size);
          fused = {layers_[pool_layer].kernel, nullptr,  // (y: set below when written)
                   forward_only_ ? nullptr : argmax_[pool_layer].data()};
        }
        const FusedPool *pool = pool_layer >= 0 ? &fused : nullptr;
        // the input as bits, where its fused cell wrote them (read before this layer's own
        // cell hands its bits on, into the other buffer)
        const int64_t in_f = elements(src.shape), bit_words = (in_f + 15) / 16;
        const uint16_t *in_bits = fusion_.bits_for(static_cast<int>(i)) ? fusion_.bits() : nullptr;
        if (in_bits) fusion_.bits_read();
        const bool events =
            use_events(static_cast<int>(i), in, rows, in_f, false, in_bits, bit_words);
        fusion_.count_conv_bits(in_bits && events);
        if (!events) in_bits = nullptr;
        if (events && cell >= 0) {
          std::vector<float> &h = act_[cell];  // the cell's output straight from the events
          if (h.empty()) h = mem_.acquire(y_size);
          h.resize(y_size);
          CellPass pass{layers_[cell].forward, layers_[cell].states, T, B, h.data()};
          fusion_.hand_bits(layers_, output_, mem_, cell, rows, features(cell), pass);
          conv2d_forward_events(events_[i], w, b, nullptr, src.shape, l, pool, &pass, in_bits,
                                bit_words);
          fusion_.fused(cell);
        } else {
          need_y();
          fused.y = y.data();  // (no pool: unused)
          if (events)
            conv2d_forward_events(events_[i], w, b, y.data(), src.shape, l, pool, nullptr, in_bits,
                                  bit_words);
          else
            conv2d_forward(in, w, b, y.data(), rows, src.shape, l, pool);
        }
        break;
      }
      case LayerSpec::MaxPool:
        if (!forward_only_) argmax_[i].resize(rows * out_f);
        maxpool_forward(in, y.data(), forward_only_ ? nullptr : argmax_[i].data(), rows, src.shape,
                        l);
        break;
      case LayerSpec::AvgPool:
        avgpool_forward(in, y.data(), rows, src.shape, l);
        break;
      case LayerSpec::Flatten:
        std::copy(in, in + in_n, y.begin());
        break;
      case LayerSpec::Dropout:
        if (!training_ || l.rate <= 0) {
          std::copy(in, in + in_n, y.begin());
          mask_[i].clear();
        } else {
          draw_dropout_mask(static_cast<int>(i), mask_[i], static_cast<size_t>(in_n));
          for (int64_t k = 0; k < in_n; ++k) y[k] = in[k] * mask_[i][k];
        }
        break;
      case LayerSpec::Cell: {
        if (fusion_.take_fused(static_cast<int>(i))) break;  // computed with its synaptic layer
        const int64_t n = B * out_f;
        // every step's states when backward or a membrane readout reads them; only the
        // latest step when no backward follows, or when the cell is expected to be
        // recomputed (its consumers took the event path last time; if one does not this
        // time, backward reruns the scan for the states alone)
        const bool all_steps =
            static_cast<int>(i) == output_ ||
            (!forward_only_ && !(training_ && recomputable(static_cast<int>(i))));
        const auto post_size = static_cast<size_t>((all_steps ? T : 1) * l.states * n);
        if (post_[i].empty()) post_[i] = mem_.acquire(post_size);
        post_[i].resize(post_size);
        float *out = y.data(), *post = post_[i].data();
        cell_forward(static_cast<int>(i), in, out, post, T, n, n, all_steps ? l.states * n : 0);
        seg_.save(static_cast<int>(i), l, out, post + (all_steps ? (T - 1) * l.states * n : 0), T,
                  n);
        break;
      }
      default:
        throw std::logic_error("unknown layer kind");
    }
    fwd_s_[i] += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const int src_layer = l.input;
    if (mem_.last_use(src_layer) != static_cast<int>(i)) continue;
    // the input's last consumer has run: drop what no backward will read
    if (forward_only_) {  // no backward follows: only cell outputs and the output are read
      if (!kept_to_the_end_of_forward_only(src_layer)) mem_.release(act_[src_layer]);
    } else if (!mem_.kept(src_layer) || (training_ && recomputable(src_layer))) {
      mem_.release(act_[src_layer]);
      if (layers_[src_layer].kind == LayerSpec::Cell) {
        mem_.release(post_[src_layer]);
        mem_.recompute(src_layer);
      }
    }
    if (forward_only_ && l.kind == LayerSpec::Cell && static_cast<int>(i) != output_)
      mem_.release(post_[i]);
  }
  return act_[output_];
}

void Network::backward_steps(const float *g_out, const float *g_state) {
  int64_t rows = T_ * B_;
  for (auto &g : grad_) mem_.release(g);
  grad_[output_] = mem_.acquire(rows * features(output_));
  std::copy(g_out, g_out + rows * features(output_), grad_[output_].begin());
  for (int i = static_cast<int>(layers_.size()) - 1; i > 0; --i) {
    const LayerSpec &l = layers_[i];
    if (fusion_.pool_conv(i) >= 0) continue;  // differentiated by its conv
    const int pool_layer = l.kind == LayerSpec::Conv2d ? l.fused_pool : -1;
    if (grad_[pool_layer >= 0 ? pool_layer : i].empty()) continue;
    const LayerSpec &src = layers_[l.input];
    std::vector<float> &g_in = grad_[l.input];
    int64_t in_f = elements(src.shape), out_f = elements(l.shape);
    bool need_input_grad = l.input > 0;  // the network input needs no gradient
    if (!need_input_grad && l.kind != LayerSpec::Linear && l.kind != LayerSpec::Conv2d) {
      mem_.release(grad_[i]);  // nothing to learn below this layer
      continue;
    }
    // a layer that is its input's only consumer and overwrites its whole input gradient
    // (cells) needs no zeroed buffer and no accumulation
    const bool overwrite =
        g_in.empty() && mem_.consumers(l.input) == 1 && l.kind == LayerSpec::Cell;
    const bool first_gradient = g_in.empty();  // (else another consumer's is there to add to)
    if (first_gradient && need_input_grad && !overwrite) {
      g_in = mem_.acquire(rows * in_f);
      float *gi = g_in.data();
      if (l.kind != LayerSpec::Linear)  // (a linear layer writes its first one whole)
        parallel_for(rows * in_f, 1 << 16,
                     [&](int64_t k0, int64_t k1) { std::fill(gi + k0, gi + k1, 0.f); });
    }
    const float *x = data_of(l.input);
    auto t0 = std::chrono::steady_clock::now();
    switch (l.kind) {
      case LayerSpec::Linear:
        if (l.compressed) {  // the input gradient by GEMM with the zero-filled dense weight
          sparse_linear_backward(sparse_[i], events_[i], grad_[i].data(), nullptr,
                                 params_[weight_of_[i]].grad.data(),
                                 params_[bias_of_[i]].grad.data());
          if (need_input_grad)
            linear_input_grad(grad_[i].data(), params_[weight_of_[i]].value.data(), g_in.data(),
                              rows, in_f, out_f, !first_gradient);
          break;
        }
        linear_backward(
            x, params_[weight_of_[i]].value.data(), grad_[i].data(),
            need_input_grad ? g_in.data() : nullptr, params_[weight_of_[i]].grad.data(),
            params_[bias_of_[i]].grad.data(), rows, in_f, out_f,
            syn_[i].events || (syn_[i].narrow && syn_[i].narrow_kept) ? &events_[i] : nullptr,
            syn_[i].narrow, !first_gradient);
        if (syn_[i].narrow_kept) {  // (read once: freed before the layers below run)
          events_[i] = Events();
          syn_[i].narrow_kept = false;
        }
        if (l.sparsity > 0) mask_gradient(static_cast<int>(i));  // absent stay absent
        break;
      case LayerSpec::Conv2d: {
        FusedPoolGrad fused;
        if (pool_layer >= 0)
          fused = {layers_[pool_layer].kernel, grad_[pool_layer].data(),
                   argmax_[pool_layer].data()};
        conv2d_backward(x, params_[weight_of_[i]].value.data(),
                        pool_layer >= 0 ? nullptr : grad_[i].data(),
                        need_input_grad ? g_in.data() : nullptr, params_[weight_of_[i]].grad.data(),
                        params_[bias_of_[i]].grad.data(), rows, src.shape, l,
                        syn_[i].events ? &events_[i] : nullptr, pool_layer >= 0 ? &fused : nullptr);
        if (pool_layer >= 0) mem_.release(grad_[pool_layer]);
        break;
      }
      case LayerSpec::MaxPool:
        maxpool_backward(grad_[i].data(), g_in.data(), argmax_[i], rows, src.shape, l);
        break;
      case LayerSpec::AvgPool:
        avgpool_backward(grad_[i].data(), g_in.data(), rows, src.shape, l);
        break;
      case LayerSpec::Flatten: {
        float *gi = g_in.data();
        const float *go = grad_[i].data();
        parallel_for(static_cast<int64_t>(g_in.size()), 1 << 14, [&](int64_t k0, int64_t k1) {
          for (int64_t k = k0; k < k1; ++k) gi[k] += go[k];
        });
        break;
      }
      case LayerSpec::Dropout:
        for (size_t k = 0; k < g_in.size(); ++k)
          g_in[k] += grad_[i][k] * (mask_[i].empty() ? 1.f : mask_[i][k]);
        break;
      case LayerSpec::Cell: {
        int64_t n = B_ * out_f;
        if (!overwrite) scratch_.resize(rows * out_f);
        // the adjoints of the states after this pass's last step: zero, or carried from the
        // segment after this one
        if (carry_[i].empty())
          carry_[i].assign(static_cast<size_t>(std::max<int64_t>(l.states, 1) * n), 0.f);
        const float *prev = seg_.prev(i, l, n);
        // overwriting: the input gradient is written over the output's (same shape), then
        // becomes the input's gradient buffer
        float *g = overwrite ? grad_[i].data() : scratch_.data();
        const float *g_post = i == output_ && g_state ? g_state : nullptr;
        // rerun the forward scan for the states (and the output, if dropped and read) when
        // forward dropped them or kept only the latest step
        if (mem_.recomputed(i) || post_[i].size() != static_cast<size_t>(T_ * l.states * n)) {
          mem_.release(post_[i]);  // (and the output, if dropped and read)
          post_[i] = mem_.acquire(static_cast<size_t>(T_ * l.states * n));
          const bool all_out = mem_.recomputed(i) && l.backward_reads_output;
          if (all_out) act_[i] = mem_.acquire(static_cast<size_t>(rows * out_f));
          step_out_.resize(static_cast<size_t>(n));  // else only the latest step, in place
          float *o = all_out ? act_[i].data() : step_out_.data(), *p = post_[i].data();
          cell_forward(i, x, o, p, T_, n, all_out ? n : 0, l.states * n);
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
        const float *post = post_[i].data(), *g_out = grad_[i].data();
        float *carry = carry_[i].data(), *gi = g_in.data();
        split_elements(n, [&](int64_t n0, int64_t n1) {
          if (prev)
            l.backward_from(x ? x + n0 : nullptr, out ? out + n0 : nullptr,
                            post ? post + n0 : nullptr, g_out + n0, g_post ? g_post + n0 : nullptr,
                            g + n0, carry + n0, T_, n1 - n0, n, prev + n0);
          else
            l.backward(x ? x + n0 : nullptr, out ? out + n0 : nullptr, post ? post + n0 : nullptr,
                       g_out + n0, g_post ? g_post + n0 : nullptr, g + n0, carry + n0, T_, n1 - n0,
                       n);
          if (!overwrite)
            for (int64_t t = 0; t < T_; ++t)
              for (int64_t k = t * n + n0; k < t * n + n1; ++k) gi[k] += g[k];
        });
        if (overwrite) g_in = std::move(grad_[i]);
        break;
      }
      default:
        throw std::logic_error("unknown layer kind");
    }
    bwd_s_[i] += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    mem_.release(grad_[i]);
    // activations no backward still to run reads go back to the pool for the layers below:
    // a cell's output and states after its own backward (its consumers ran before it), any
    // other layer's output after its first consumer's (which runs last)
    if (l.kind == LayerSpec::Cell && i != output_) {
      mem_.release(act_[i]);
      mem_.release(post_[i]);
    }
    const int j = l.input;
    if (mem_.first_consumer(j) == i && layers_[j].kind != LayerSpec::Cell) mem_.release(act_[j]);
  }
}

}  // namespace snnc::rt::nn
