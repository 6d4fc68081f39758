// Network.cpp — forward and backward of linear/conv/pool/flatten/cell layers.
#include "Network.h"

#include <chrono>
#include <cmath>
#include <stdexcept>

#include "Ops.h"
#include "Rng.h"

namespace snnc::rt::nn {

int64_t elements(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
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
}

void Network::init_params(uint64_t seed) {
  Rng rng(seed, 77);
  for (size_t i = 0; i < layers_.size(); ++i) {
    if (weight_of_[i] < 0) continue;
    Param &w = params_[weight_of_[i]];
    int64_t fan_in = elements(w.shape) / w.shape[0];
    double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
    for (float &v : w.value) v = static_cast<float>((2 * rng.uniform() - 1) * bound);
    for (float &v : params_[bias_of_[i]].value)
      v = static_cast<float>((2 * rng.uniform() - 1) * bound);
  }
}

void Network::zero_grad() {
  for (auto &p : params_) std::fill(p.grad.begin(), p.grad.end(), 0.f);
}

void Network::count_ops(int i, const std::vector<float> &in, int64_t rows) {
  if (!counting_) return;
  const LayerSpec &l = layers_[i];
  const LayerSpec &src = layers_[l.input];
  double dense;  // multiply-accumulates of one row (one sample at one step)
  if (l.kind == LayerSpec::Linear) {
    dense = static_cast<double>(elements(src.shape)) * l.out_features;
  } else {
    int64_t ckk = src.shape[0] * l.kernel * l.kernel;
    dense = static_cast<double>(ckk) * l.channels * l.shape[1] * l.shape[2];
  }
  bool binary = true;
  int64_t nonzero = 0;
  for (float v : in) {
    binary &= v == 0.f || v == 1.f;
    nonzero += v != 0.f;
  }
  if (binary)  // each active input drives its share of the layer's connections
    ops_.accumulates +=
        dense * static_cast<double>(nonzero) / static_cast<double>(elements(src.shape));
  else
    ops_.macs += dense * static_cast<double>(rows);
}

const std::vector<float> &Network::forward(const float *x, int64_t T, int64_t B) {
  T_ = T;
  B_ = B;
  if (counting_) ops_.samples += B;
  for (size_t i = 0; i < layers_.size(); ++i) {
    const LayerSpec &l = layers_[i];
    int64_t rows = T * B, out_f = elements(l.shape);
    std::vector<float> &y = act_[i];
    y.resize(rows * out_f);
    if (l.kind == LayerSpec::Input) {
      std::copy(x, x + rows * out_f, y.begin());
      continue;
    }
    const std::vector<float> &in = act_[l.input];
    const LayerSpec &src = layers_[l.input];
    auto t0 = std::chrono::steady_clock::now();
    switch (l.kind) {
      case LayerSpec::Linear:
        count_ops(static_cast<int>(i), in, rows);
        linear_forward(in.data(), params_[weight_of_[i]].value.data(),
                       params_[bias_of_[i]].value.data(), y.data(), rows, elements(src.shape),
                       l.out_features);
        break;
      case LayerSpec::Conv2d:
        count_ops(static_cast<int>(i), in, rows);
        conv2d_forward(in.data(), params_[weight_of_[i]].value.data(),
                       params_[bias_of_[i]].value.data(), y.data(), rows, src.shape, l);
        break;
      case LayerSpec::MaxPool:
        maxpool_forward(in.data(), y.data(), argmax_[i], rows, src.shape, l);
        break;
      case LayerSpec::AvgPool:
        avgpool_forward(in.data(), y.data(), rows, src.shape, l);
        break;
      case LayerSpec::Flatten:
        std::copy(in.begin(), in.end(), y.begin());
        break;
      case LayerSpec::Dropout:
        if (!training_ || l.rate <= 0) {
          std::copy(in.begin(), in.end(), y.begin());
          mask_[i].clear();
        } else {
          Rng rng(dropout_seed_, 2000000 + dropout_calls_++);
          float keep = static_cast<float>(1.0 / (1.0 - l.rate));
          mask_[i].resize(in.size());
          for (size_t k = 0; k < in.size(); ++k) {
            mask_[i][k] = rng.uniform() < l.rate ? 0.f : keep;
            y[k] = in[k] * mask_[i][k];
          }
        }
        break;
      case LayerSpec::Cell:
        post_[i].resize(static_cast<size_t>(T * l.states * B * out_f));
        l.forward(in.data(), y.data(), post_[i].data(), T, B * out_f, B * out_f);
        break;
      default:
        throw std::logic_error("unknown layer kind");
    }
    fwd_s_[i] += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  return act_[output_];
}

void Network::backward(const float *g_out, const float *g_state) {
  int64_t rows = T_ * B_;
  for (auto &g : grad_) g.clear();
  grad_[output_].assign(g_out, g_out + rows * features(output_));
  for (int i = static_cast<int>(layers_.size()) - 1; i > 0; --i) {
    const LayerSpec &l = layers_[i];
    if (grad_[i].empty()) continue;
    const LayerSpec &src = layers_[l.input];
    std::vector<float> &g_in = grad_[l.input];
    int64_t in_f = elements(src.shape), out_f = elements(l.shape);
    bool need_input_grad = l.input > 0;  // the network input needs no gradient
    if (g_in.empty()) g_in.assign(rows * in_f, 0.f);
    const float *x = act_[l.input].data();
    auto t0 = std::chrono::steady_clock::now();
    switch (l.kind) {
      case LayerSpec::Linear:
        linear_backward(x, params_[weight_of_[i]].value.data(), grad_[i].data(),
                        need_input_grad ? g_in.data() : nullptr, params_[weight_of_[i]].grad.data(),
                        params_[bias_of_[i]].grad.data(), rows, in_f, out_f);
        break;
      case LayerSpec::Conv2d:
        conv2d_backward(x, params_[weight_of_[i]].value.data(), grad_[i].data(),
                        need_input_grad ? g_in.data() : nullptr, params_[weight_of_[i]].grad.data(),
                        params_[bias_of_[i]].grad.data(), rows, src.shape, l);
        break;
      case LayerSpec::MaxPool:
        maxpool_backward(grad_[i].data(), g_in.data(), argmax_[i], rows, src.shape, l);
        break;
      case LayerSpec::AvgPool:
        avgpool_backward(grad_[i].data(), g_in.data(), rows, src.shape, l);
        break;
      case LayerSpec::Flatten:
        for (size_t k = 0; k < g_in.size(); ++k) g_in[k] += grad_[i][k];
        break;
      case LayerSpec::Dropout:
        for (size_t k = 0; k < g_in.size(); ++k)
          g_in[k] += grad_[i][k] * (mask_[i].empty() ? 1.f : mask_[i][k]);
        break;
      case LayerSpec::Cell: {
        int64_t n = B_ * out_f;
        scratch_.resize(rows * out_f);
        carry_.assign(static_cast<size_t>(std::max<int64_t>(l.states, 1) * n), 0.f);
        float *g = scratch_.data();
        const float *g_post = i == output_ && g_state ? g_state : nullptr;
        if (!g_post) {
          zeros_.assign(post_[i].size(), 0.f);
          g_post = zeros_.data();
        }
        l.backward(x, act_[i].data(), post_[i].data(), grad_[i].data(), g_post, g, carry_.data(),
                   T_, n, n);
        for (int64_t k = 0; k < rows * out_f; ++k) g_in[k] += g[k];
        break;
      }
      default:
        throw std::logic_error("unknown layer kind");
    }
    bwd_s_[i] += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
}

}  // namespace snnc::rt::nn
