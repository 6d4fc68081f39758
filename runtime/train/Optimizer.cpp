// Optimizer.cpp — torch.optim.Adam / SGD semantics in float32.
#include "Optimizer.h"

#include <cmath>
#include <stdexcept>

namespace snnc::rt {

namespace {

class Adam : public Optimizer {
 public:
  Adam(double lr, double b1, double b2, double eps, double wd)
      : b1_(b1), b2_(b2), eps_(eps), wd_(wd) {
    lr_ = lr;
  }

  void step(const std::vector<ParamRef> &params) override {
    ++steps_;
    double c1 = 1 - std::pow(b1_, static_cast<double>(steps_)),
           c2 = 1 - std::pow(b2_, static_cast<double>(steps_));
    float step_size = static_cast<float>(lr_ / c1), sqrt_c2 = static_cast<float>(std::sqrt(c2));
    float b1 = static_cast<float>(b1_), b2 = static_cast<float>(b2_),
          eps = static_cast<float>(eps_), wd = static_cast<float>(wd_);
    for (const auto &p : params) {
      auto &m = m_[p.name], &v = v_[p.name];
      m.resize(p.size, 0.f);
      v.resize(p.size, 0.f);
      for (int64_t i = 0; i < p.size; ++i) {
        float g = p.grad[i] + wd * p.value[i];
        m[i] = b1 * m[i] + (1 - b1) * g;
        v[i] = b2 * v[i] + (1 - b2) * g * g;
        p.value[i] -= step_size * m[i] / (std::sqrt(v[i]) / sqrt_c2 + eps);
      }
    }
  }

  std::vector<std::pair<std::string, std::vector<float>>> state() const override {
    std::vector<std::pair<std::string, std::vector<float>>> s;
    for (const auto &[k, m] : m_) s.push_back({k + ".exp_avg", m});
    for (const auto &[k, v] : v_) s.push_back({k + ".exp_avg_sq", v});
    s.push_back({"step", {static_cast<float>(steps_)}});
    return s;
  }

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
  double b1_, b2_, eps_, wd_;
  std::map<std::string, std::vector<float>> m_, v_;
};

class Sgd : public Optimizer {
 public:
  Sgd(double lr, double momentum, double wd) : momentum_(momentum), wd_(wd) { lr_ = lr; }

  void step(const std::vector<ParamRef> &params) override {
    ++steps_;
    float lr = static_cast<float>(lr_), mu = static_cast<float>(momentum_),
          wd = static_cast<float>(wd_);
    for (const auto &p : params) {
      std::vector<float> *buf = nullptr;
      if (mu != 0) {
        buf = &buf_[p.name];
        if (buf->empty()) {  // first step: buf = grad (+ weight decay)
          buf->resize(p.size);
          for (int64_t i = 0; i < p.size; ++i) (*buf)[i] = p.grad[i] + wd * p.value[i];
        } else
          for (int64_t i = 0; i < p.size; ++i)
            (*buf)[i] = mu * (*buf)[i] + p.grad[i] + wd * p.value[i];
      }
      for (int64_t i = 0; i < p.size; ++i) {
        float g = buf ? (*buf)[i] : p.grad[i] + wd * p.value[i];
        p.value[i] -= lr * g;
      }
    }
  }

  std::vector<std::pair<std::string, std::vector<float>>> state() const override {
    std::vector<std::pair<std::string, std::vector<float>>> s;
    for (const auto &[k, b] : buf_) s.push_back({k + ".momentum_buffer", b});
    return s;
  }

  void load_state(const std::vector<std::pair<std::string, std::vector<float>>> &s) override {
    for (const auto &[k, v] : s)
      if (k.size() > 16) buf_[k.substr(0, k.size() - 16)] = v;
  }

 private:
  double momentum_, wd_;
  std::map<std::string, std::vector<float>> buf_;
};

}  // namespace

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
  if (norm > max_norm && norm > 0) {
    float scale = static_cast<float>(max_norm / (norm + 1e-6));
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
