// Optimizer.cpp — torch.optim.Adam / SGD semantics in float32. Built with -ffp-contract=off
// (runtime/CMakeLists.txt) so that only the explicit std::fma calls are fused.
#include "Optimizer.h"

#include <cmath>
#include <map>
#include <stdexcept>

namespace snnc::rt {

namespace {

void check_state_size(const std::vector<float> &state, const ParamRef &p) {
  if (static_cast<int64_t>(state.size()) != p.size)
    throw std::runtime_error("optimizer state for '" + p.name + "' has " +
                             std::to_string(state.size()) + " values, the parameter has " +
                             std::to_string(p.size));
}

struct AdamStep {
  float neg_step_size, sqrt_c2, w1, b2, w2, eps, wd;
};

/// One Adam update of n parameters (see Adam::step). Distinct arrays, said so, and machine
/// variants with FMA instructions (baseline x86-64 has none: std::fma is a library call
/// there), so the loop vectorizes; every element's operations and roundings are unchanged.
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default"))) void adam_update(
    const AdamStep &s, float *__restrict value, const float *__restrict grad, float *__restrict m,
    float *__restrict v, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    float g = s.wd != 0 ? std::fma(s.wd, value[i], grad[i]) : grad[i];
    m[i] = std::fma(s.w1, g - m[i], m[i]);
    v[i] = v[i] * s.b2;
    v[i] = v[i] + s.w2 * g * g;
    float denom = std::sqrt(v[i]) / s.sqrt_c2 + s.eps;
    value[i] = value[i] + s.neg_step_size * m[i] / denom;
  }
}

class Adam : public Optimizer {
 public:
  Adam(double lr, double b1, double b2, double eps, double wd)
      : b1_(b1), b2_(b2), eps_(eps), wd_(wd) {
    lr_ = lr;
  }

  // torch.optim.Adam (single-tensor path), one float32 operation per torch kernel:
  //   grad = grad.add(param, alpha=wd); exp_avg.lerp_(grad, 1 - beta1);
  //   exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2);
  //   denom = exp_avg_sq.sqrt() / sqrt(1 - beta2^t) + eps;
  //   param.addcdiv_(exp_avg, denom, value=-lr / (1 - beta1^t))
  // with the fused multiply-adds of torch's vectorized add and lerp kernels.
  void step(const std::vector<ParamRef> &params) override {
    ++steps_;
    double c1 = 1 - std::pow(b1_, static_cast<double>(steps_)),
           c2 = 1 - std::pow(b2_, static_cast<double>(steps_));
    float neg_step_size = static_cast<float>(-(lr_ / c1)),
          sqrt_c2 = static_cast<float>(std::sqrt(c2));
    float w1 = static_cast<float>(1 - b1_), b2 = static_cast<float>(b2_),
          w2 = static_cast<float>(1 - b2_), eps = static_cast<float>(eps_),
          wd = static_cast<float>(wd_);
    const AdamStep step{neg_step_size, sqrt_c2, w1, b2, w2, eps, wd};
    for (const auto &p : params)
      adam_update(step, p.value, p.grad, moment_(m_, p).data(), moment_(v_, p).data(), p.size);
  }

  std::vector<std::pair<std::string, std::vector<float>>> state() const override {
    std::vector<std::pair<std::string, std::vector<float>>> s;
    for (const auto &[k, m] : m_) s.push_back({k + ".exp_avg", m});
    for (const auto &[k, v] : v_) s.push_back({k + ".exp_avg_sq", v});
    s.push_back({"step", {static_cast<float>(steps_)}});
    return s;
  }

  std::vector<std::string> buffer_suffixes() const override { return {".exp_avg", ".exp_avg_sq"}; }
  bool keeps_step() const override { return true; }

  void load_state(const std::vector<std::pair<std::string, std::vector<float>>> &s) override {
    for (const auto &[k, v] : s) {
      if (k == "step")
        steps_ = static_cast<int64_t>(v.at(0));
      else if (k.size() > 8 && k.compare(k.size() - 8, 8, ".exp_avg") == 0)
        m_[k.substr(0, k.size() - 8)] = v;
      else if (k.size() > 11 && k.compare(k.size() - 11, 11, ".exp_avg_sq") == 0)
        v_[k.substr(0, k.size() - 11)] = v;
    }
  }

 private:
  /// The moment of `p`, zero on its first step; state loaded with another size is an error.
  static std::vector<float> &moment_(std::map<std::string, std::vector<float>> &moments,
                                     const ParamRef &p) {
    auto [it, fresh] = moments.try_emplace(p.name);
    if (fresh) it->second.assign(p.size, 0.f);
    check_state_size(it->second, p);
    return it->second;
  }

  double b1_, b2_, eps_, wd_;
  std::map<std::string, std::vector<float>> m_, v_;
};

/// One SGD update of n parameters (see Sgd::step; buf null: no momentum), vectorized as
/// adam_update is.
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default"))) void sgd_update(
    float neg_lr, float mu, float wd, bool first, float *__restrict value,
    const float *__restrict grad, float *__restrict buf, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    float g = wd != 0 ? std::fma(wd, value[i], grad[i]) : grad[i];
    if (buf) {
      buf[i] = first ? g : buf[i] * mu + g;
      g = buf[i];
    }
    value[i] = std::fma(neg_lr, g, value[i]);
  }
}

class Sgd : public Optimizer {
 public:
  Sgd(double lr, double momentum, double wd) : momentum_(momentum), wd_(wd) { lr_ = lr; }

  // torch.optim.SGD (dampening 0, no Nesterov): grad = grad.add(param, alpha=wd);
  // buf = grad on the first step, then buf.mul_(momentum).add_(grad); param.add_(buf, alpha=-lr)
  void step(const std::vector<ParamRef> &params) override {
    ++steps_;
    float neg_lr = static_cast<float>(-lr_), mu = static_cast<float>(momentum_),
          wd = static_cast<float>(wd_);
    for (const auto &p : params) {
      std::vector<float> *buf = nullptr;
      bool first = false;
      if (momentum_ != 0) {
        auto [it, fresh] = buf_.try_emplace(p.name);
        if (fresh) it->second.resize(p.size);
        check_state_size(it->second, p);
        buf = &it->second;
        first = fresh;
      }
      sgd_update(neg_lr, mu, wd, first, p.value, p.grad, buf ? buf->data() : nullptr, p.size);
    }
  }

  std::vector<std::pair<std::string, std::vector<float>>> state() const override {
    std::vector<std::pair<std::string, std::vector<float>>> s;
    for (const auto &[k, b] : buf_) s.push_back({k + ".momentum_buffer", b});
    return s;
  }

  std::vector<std::string> buffer_suffixes() const override {
    if (momentum_ == 0) return {};
    return {".momentum_buffer"};
  }
  bool keeps_step() const override { return false; }

  void load_state(const std::vector<std::pair<std::string, std::vector<float>>> &s) override {
    const std::string suffix = ".momentum_buffer";
    for (const auto &[k, v] : s)
      if (k.size() > suffix.size() && k.ends_with(suffix))
        buf_[k.substr(0, k.size() - suffix.size())] = v;
  }

 private:
  double momentum_, wd_;
  std::map<std::string, std::vector<float>> buf_;
};

}  // namespace

void Optimizer::check_state(const std::vector<std::pair<std::string, std::vector<float>>> &s,
                            const std::vector<ParamRef> &params, const std::string &source) const {
  auto fail = [&](const std::string &what) {
    return std::runtime_error(source + ": optimizer state " + what);
  };
  std::map<std::string, const std::vector<float> *> entries;
  for (const auto &[name, values] : s) {
    if (!entries.emplace(name, &values).second) throw fail("lists '" + name + "' twice");
    for (float v : values)
      if (!std::isfinite(v)) throw fail("'" + name + "' holds a non-finite value");
  }
  bool stepped = true;
  if (keeps_step()) {
    auto it = entries.find("step");
    if (it == entries.end()) throw fail("has no step count");
    const auto &v = *it->second;
    if (v.size() != 1 || v[0] < 0 || v[0] != std::floor(v[0]))
      throw fail("has an invalid step count");
    stepped = v[0] > 0;
    entries.erase(it);
  }
  for (const auto &p : params)
    for (const auto &suffix : buffer_suffixes()) {
      auto it = entries.find(p.name + suffix);
      if (it == entries.end()) {
        if (stepped) throw fail("has no '" + p.name + suffix + "'");
        continue;
      }
      if (static_cast<int64_t>(it->second->size()) != p.size)
        throw fail("'" + p.name + suffix + "' has " + std::to_string(it->second->size()) +
                   " values, the parameter has " + std::to_string(p.size));
      entries.erase(it);
    }
  if (!entries.empty())
    throw fail("holds '" + entries.begin()->first + "', which no parameter has");
}

std::unique_ptr<Optimizer> make_adam(double lr, double beta1, double beta2, double eps,
                                     double weight_decay) {
  return std::make_unique<Adam>(lr, beta1, beta2, eps, weight_decay);
}

std::unique_ptr<Optimizer> make_sgd(double lr, double momentum, double weight_decay) {
  return std::make_unique<Sgd>(lr, momentum, weight_decay);
}

double clip_grad_norm(const std::vector<ParamRef> &params, double max_norm) {
  double sq = 0;
  for (const auto &p : params)
    for (int64_t i = 0; i < p.size; ++i) sq += static_cast<double>(p.grad[i]) * p.grad[i];
  double norm = std::sqrt(sq);
  if (!std::isfinite(norm)) return norm;   // left to the caller: scaling would only spread NaN
  double coef = max_norm / (norm + 1e-6);  // as torch: scale whenever this is below 1
  if (coef < 1) {
    float scale = static_cast<float>(coef);
    for (const auto &p : params)
      for (int64_t i = 0; i < p.size; ++i) p.grad[i] *= scale;
  }
  return norm;
}

double scheduled_lr(const std::string &schedule, double base, int64_t epoch, int64_t epochs) {
  if (schedule == "constant" || schedule.empty()) return base;
  if (schedule == "cosine")
    return base * 0.5 * (1 + std::cos(M_PI * epoch / std::max<int64_t>(epochs, 1)));
  if (schedule == "step") return base * std::pow(0.1, epoch / std::max<int64_t>(1, epochs / 3));
  throw std::runtime_error("unknown learning-rate schedule '" + schedule +
                           "' (constant, cosine, step)");
}

}  // namespace snnc::rt
