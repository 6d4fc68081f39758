// Loss.h — losses and accuracy on the output activation [T][B][K] of a network.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace snnc::rt::nn {

struct LossResult {
  double loss = 0;
  int64_t correct = 0;           ///< predictions equal to the label
  std::vector<float> grad;       ///< d loss / d output, [T][B][K]
};

/// Spike-count MSE (snnTorch's mse_count_loss): count = sum over t; target int(T*correct)
/// for the label, int(T*incorrect) otherwise; loss = mean((count - target)^2) / T.
LossResult mse_count_loss(const std::vector<float> &out, const int32_t *labels, int64_t T, int64_t B, int64_t K,
                          double correct_rate, double incorrect_rate);

/// Cross-entropy of softmax(sum over t of the output) (for ANN twins T = 1: the logits).
LossResult cross_entropy_count_loss(const std::vector<float> &out, const int32_t *labels, int64_t T, int64_t B,
                                    int64_t K);

/// Predicted class per sample: the output with the largest sum over time (first on ties).
std::vector<int32_t> predict_by_count(const std::vector<float> &out, int64_t T, int64_t B, int64_t K);

}  // namespace snnc::rt::nn
