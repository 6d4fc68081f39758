// Loss.h — losses and accuracy on the output activation [T][B][K] of a network.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace snnc::rt::nn {

/// The losses an experiment trains with (`loss = ...`); every executor (CPU network, device
/// network, `snnc trace`) computes them through compute_loss / its device counterpart.
enum class LossKind { MseCount, CrossEntropyCount, MembraneMse, MembraneCrossEntropy };

struct LossSpec {
  LossKind kind = LossKind::MseCount;
  double correct = 0.8, incorrect = 0.2;  ///< targets: rates (mse_count), membranes (mse_membrane)
};

/// The language's name of a loss ("mse_count", ...), and back (std::invalid_argument on an
/// unknown name).
const char *loss_name(LossKind kind);
LossKind loss_kind(const std::string &name);
/// Whether the loss reads the output cell's membrane (state 0) rather than its spikes; such
/// losses also predict by the largest membrane.
bool reads_membrane(LossKind kind);

struct LossResult {
  double loss = 0;
  int64_t correct = 0;            ///< predictions equal to the label
  std::vector<float> grad;        ///< d loss / d output, [T][B][K]
  std::vector<float> state_grad;  ///< d loss / d output state [T][S][B*K] (membrane losses)
};

/// Spike-count MSE (snnTorch's mse_count_loss): count = sum over t; target int(T*correct)
/// for the label, int(T*incorrect) otherwise; loss = mean((count - target)^2) / T.
LossResult mse_count_loss(const std::vector<float> &out, const int32_t *labels, int64_t T,
                          int64_t B, int64_t K, double correct_rate, double incorrect_rate);

/// Cross-entropy of softmax(sum over t of the output) (for ANN twins T = 1: the logits).
LossResult cross_entropy_count_loss(const std::vector<float> &out, const int32_t *labels, int64_t T,
                                    int64_t B, int64_t K);

/// Cross-entropy of softmax(membrane) at every step, averaged over steps (the membrane is
/// state 0 of the output cell, `post` = [T][S][B*K]).
LossResult membrane_cross_entropy_loss(const std::vector<float> &post, const int32_t *labels,
                                       int64_t T, int64_t B, int64_t K, int64_t S);

/// Mean squared error of the membrane against `on` for the label and `off` otherwise.
LossResult membrane_mse_loss(const std::vector<float> &post, const int32_t *labels, int64_t T,
                             int64_t B, int64_t K, int64_t S, double on, double off);

/// The loss `spec` of a network's output `out` [T][B][K] or, for membrane losses, of its
/// output cell's state `post` [T][S][B*K] (S states per element; S == 0 is an error: the
/// loss needs a stateful output cell).
LossResult compute_loss(const LossSpec &spec, const std::vector<float> &out,
                        const std::vector<float> &post, int64_t S, const int32_t *labels, int64_t T,
                        int64_t B, int64_t K);

/// Predicted class per sample: the largest membrane over all steps.
std::vector<int32_t> predict_by_max_membrane(const std::vector<float> &post, int64_t T, int64_t B,
                                             int64_t K, int64_t S);

/// Predicted class per sample: the output with the largest sum over time (first on ties).
std::vector<int32_t> predict_by_count(const std::vector<float> &out, int64_t T, int64_t B,
                                      int64_t K);

}  // namespace snnc::rt::nn
