// Loss.cpp — spike-count MSE, count cross-entropy, prediction by count.
#include "Loss.h"

#include <cmath>
#include <stdexcept>

namespace snnc::rt::nn {

namespace {
std::vector<double> counts(const std::vector<float> &out, int64_t T, int64_t B, int64_t K) {
  std::vector<double> c(B * K, 0.0);
  for (int64_t t = 0; t < T; ++t)
    for (int64_t i = 0; i < B * K; ++i) c[i] += out[t * B * K + i];
  return c;
}
}  // namespace

std::vector<int32_t> predict_by_count(const std::vector<float> &out, int64_t T, int64_t B,
                                      int64_t K) {
  std::vector<double> c = counts(out, T, B, K);
  std::vector<int32_t> pred(B);
  for (int64_t b = 0; b < B; ++b) {
    int32_t best = 0;
    for (int64_t k = 1; k < K; ++k)
      if (c[b * K + k] > c[b * K + best]) best = static_cast<int32_t>(k);
    pred[b] = best;
  }
  return pred;
}

LossResult mse_count_loss(const std::vector<float> &out, const int32_t *labels, int64_t T,
                          int64_t B, int64_t K, double correct_rate, double incorrect_rate) {
  LossResult r;
  std::vector<double> c = counts(out, T, B, K);
  double on = std::trunc(T * correct_rate), off = std::trunc(T * incorrect_rate);
  std::vector<double> g(B * K);
  double sum = 0;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t k = 0; k < K; ++k) {
      double d = c[b * K + k] - (k == labels[b] ? on : off);
      sum += d * d;
      g[b * K + k] = 2 * d / (static_cast<double>(B) * K * T);
    }
  r.loss = sum / (static_cast<double>(B) * K) / T;
  r.grad.resize(T * B * K);
  for (int64_t t = 0; t < T; ++t)
    for (int64_t i = 0; i < B * K; ++i) r.grad[t * B * K + i] = static_cast<float>(g[i]);
  auto pred = predict_by_count(out, T, B, K);
  for (int64_t b = 0; b < B; ++b) r.correct += pred[b] == labels[b];
  return r;
}

LossResult cross_entropy_count_loss(const std::vector<float> &out, const int32_t *labels, int64_t T,
                                    int64_t B, int64_t K) {
  LossResult r;
  std::vector<double> c = counts(out, T, B, K);
  std::vector<double> g(B * K);
  double sum = 0;
  for (int64_t b = 0; b < B; ++b) {
    double m = c[b * K];
    for (int64_t k = 1; k < K; ++k) m = std::max(m, c[b * K + k]);
    double z = 0;
    for (int64_t k = 0; k < K; ++k) z += std::exp(c[b * K + k] - m);
    sum += -(c[b * K + labels[b]] - m - std::log(z));
    for (int64_t k = 0; k < K; ++k)
      g[b * K + k] = (std::exp(c[b * K + k] - m) / z - (k == labels[b])) / B;
  }
  r.loss = sum / B;
  r.grad.resize(T * B * K);
  for (int64_t t = 0; t < T; ++t)
    for (int64_t i = 0; i < B * K; ++i) r.grad[t * B * K + i] = static_cast<float>(g[i]);
  auto pred = predict_by_count(out, T, B, K);
  for (int64_t b = 0; b < B; ++b) r.correct += pred[b] == labels[b];
  return r;
}

std::vector<int32_t> predict_by_max_membrane(const std::vector<float> &post, int64_t T, int64_t B,
                                             int64_t K, int64_t S) {
  std::vector<int32_t> pred(B, 0);
  for (int64_t b = 0; b < B; ++b) {
    float best = -INFINITY;
    for (int64_t t = 0; t < T; ++t)
      for (int64_t k = 0; k < K; ++k) {
        float m = post[(t * S) * B * K + b * K + k];
        if (m > best) best = m, pred[b] = static_cast<int32_t>(k);
      }
  }
  return pred;
}

LossResult membrane_cross_entropy_loss(const std::vector<float> &post, const int32_t *labels,
                                       int64_t T, int64_t B, int64_t K, int64_t S) {
  LossResult r;
  r.grad.assign(T * B * K, 0.f);
  r.state_grad.assign(T * S * B * K, 0.f);
  double sum = 0;
  for (int64_t t = 0; t < T; ++t)
    for (int64_t b = 0; b < B; ++b) {
      const float *m = &post[(t * S) * B * K + b * K];
      double mx = m[0];
      for (int64_t k = 1; k < K; ++k) mx = std::max<double>(mx, m[k]);
      double z = 0;
      for (int64_t k = 0; k < K; ++k) z += std::exp(m[k] - mx);
      sum += -(m[labels[b]] - mx - std::log(z));
      for (int64_t k = 0; k < K; ++k)
        r.state_grad[(t * S) * B * K + b * K + k] = static_cast<float>(
            (std::exp(m[k] - mx) / z - (k == labels[b])) / (static_cast<double>(B) * T));
    }
  r.loss = sum / (static_cast<double>(B) * T);
  auto pred = predict_by_max_membrane(post, T, B, K, S);
  for (int64_t b = 0; b < B; ++b) r.correct += pred[b] == labels[b];
  return r;
}

LossResult membrane_mse_loss(const std::vector<float> &post, const int32_t *labels, int64_t T,
                             int64_t B, int64_t K, int64_t S, double on, double off) {
  LossResult r;
  r.grad.assign(T * B * K, 0.f);
  r.state_grad.assign(T * S * B * K, 0.f);
  double sum = 0, n = static_cast<double>(T) * B * K;
  for (int64_t t = 0; t < T; ++t)
    for (int64_t b = 0; b < B; ++b)
      for (int64_t k = 0; k < K; ++k) {
        int64_t at = (t * S) * B * K + b * K + k;
        double d = post[at] - (k == labels[b] ? on : off);
        sum += d * d;
        r.state_grad[at] = static_cast<float>(2 * d / n);
      }
  r.loss = sum / n;
  auto pred = predict_by_max_membrane(post, T, B, K, S);
  for (int64_t b = 0; b < B; ++b) r.correct += pred[b] == labels[b];
  return r;
}

const char *loss_name(LossKind kind) {
  switch (kind) {
    case LossKind::MseCount:
      return "mse_count";
    case LossKind::CrossEntropyCount:
      return "cross_entropy";
    case LossKind::MembraneMse:
      return "mse_membrane";
    case LossKind::MembraneCrossEntropy:
      return "cross_entropy_membrane";
  }
  return "?";
}

LossKind loss_kind(const std::string &name) {
  for (LossKind k : {LossKind::MseCount, LossKind::CrossEntropyCount, LossKind::MembraneMse,
                     LossKind::MembraneCrossEntropy})
    if (name == loss_name(k)) return k;
  throw std::invalid_argument("unknown loss '" + name + "'");
}

bool reads_membrane(LossKind kind) {
  return kind == LossKind::MembraneMse || kind == LossKind::MembraneCrossEntropy;
}

LossResult compute_loss(const LossSpec &spec, const std::vector<float> &out,
                        const std::vector<float> &post, int64_t S, const int32_t *labels, int64_t T,
                        int64_t B, int64_t K) {
  if (reads_membrane(spec.kind) && S == 0)
    throw std::runtime_error(std::string("loss '") + loss_name(spec.kind) +
                             "' needs a stateful (membrane) output cell");
  switch (spec.kind) {
    case LossKind::MseCount:
      return mse_count_loss(out, labels, T, B, K, spec.correct, spec.incorrect);
    case LossKind::CrossEntropyCount:
      return cross_entropy_count_loss(out, labels, T, B, K);
    case LossKind::MembraneMse:
      return membrane_mse_loss(post, labels, T, B, K, S, spec.correct, spec.incorrect);
    case LossKind::MembraneCrossEntropy:
      return membrane_cross_entropy_loss(post, labels, T, B, K, S);
  }
  throw std::logic_error("unhandled loss kind");
}

}  // namespace snnc::rt::nn
