// Network.cpp — the layer plan and its parameters, and the passes over its layers.
#include "Network.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

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
  add(mask_);
  for (const auto &a : argmax_) bytes += a.capacity() * sizeof(Winner);
  for (const auto &e : events_)
    bytes += e.index.capacity() * 4 + e.value.capacity() * 4 + e.start.capacity() * 8;
  add(carry_);
  bytes += scratch_.capacity() * sizeof(float);
  return bytes + mem_.spare_bytes() + seg_.bytes() + fusion_.bytes() + weight_t_.bytes();
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

const std::vector<float> &Network::forward_steps(const float *x, int64_t T, int64_t B) {
  T_ = T;
  B_ = B;
  mem_.begin_pass(layers_, T * B);
  fusion_.begin_pass();
  ops_.pass(B);
  for (int i = 0; i < static_cast<int>(layers_.size()); ++i) {
    const LayerSpec &l = layers_[i];
    if (fusion_.pool_conv(i) >= 0) continue;  // a max-pool its conv computes
    if (l.kind == LayerSpec::Input) {         // read in place (no copy): x outlives backward
      input_ = x;
      continue;
    }
    if (l.kind == LayerSpec::Flatten && forward_only_ && i != output_ &&
        kept_to_the_end_of_forward_only(l.input)) {  // read in place
      mem_.read_in_place(i, l.input);
      mem_.release(act_[i]);
      continue;
    }
    forward_layer(i);
    release_after_forward(i);
  }
  return act_[output_];
}

void Network::release_after_forward(int i) {
  const LayerSpec &l = layers_[i];
  const int src = l.input;
  if (mem_.last_use(src) != i) return;
  // the input's last consumer has run: drop what no backward will read
  if (forward_only_) {  // no backward follows: only cell outputs and the output are read
    if (!kept_to_the_end_of_forward_only(src)) mem_.release(act_[src]);
  } else if (!mem_.kept(src) || (training_ && recomputable(src))) {
    mem_.release(act_[src]);
    if (layers_[src].kind == LayerSpec::Cell) {
      mem_.release(post_[src]);
      mem_.recompute(src);
    }
  }
  if (forward_only_ && l.kind == LayerSpec::Cell && i != output_) mem_.release(post_[i]);
}

void Network::backward_steps(const float *g_out, const float *g_state) {
  const int64_t rows = T_ * B_;
  for (auto &g : grad_) mem_.release(g);
  grad_[output_] = mem_.acquire(rows * features(output_));
  std::copy(g_out, g_out + rows * features(output_), grad_[output_].begin());
  for (int i = static_cast<int>(layers_.size()) - 1; i > 0; --i) {
    const LayerSpec &l = layers_[i];
    if (fusion_.pool_conv(i) >= 0) continue;  // differentiated by its conv
    const int pool_layer = l.kind == LayerSpec::Conv2d ? l.fused_pool : -1;
    if (grad_[pool_layer >= 0 ? pool_layer : i].empty()) continue;
    // the network input needs no gradient
    if (l.input <= 0 && l.kind != LayerSpec::Linear && l.kind != LayerSpec::Conv2d) {
      mem_.release(grad_[i]);  // nothing to learn below this layer
      continue;
    }
    backward_layer(i, g_state);
    release_after_backward(i);
  }
}

void Network::release_after_backward(int i) {
  const LayerSpec &l = layers_[i];
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

}  // namespace snnc::rt::nn
