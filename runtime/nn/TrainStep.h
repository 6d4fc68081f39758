// TrainStep.h — one training step (forward, loss, backward; gradients accumulated in the
// network's parameters), optionally in micro-batches.
//
// Memory for BPTT grows with T x batch: every step's activations are kept for the backward
// pass. Splitting a batch of B samples into micro-batches of Bm runs forward and backward on
// Bm samples at a time and sums their gradients, each scaled by Bm / B, so the step follows
// the same loss (the mean over the whole batch) with activation memory for Bm samples only.
// Only float rounding differs from the whole-batch step (sums in another order).
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "Loss.h"
#include "Network.h"

namespace snnc::rt::nn {

/// The loss of one (micro-)batch of `B` samples given the network output after forward.
using LossFn =
    std::function<LossResult(const std::vector<float> &out, const int32_t *labels, int64_t B)>;

struct StepResult {
  double loss = 0;  ///< mean over the batch
  int64_t correct = 0;
};

/// x: [T][B][F]. Zeroes the gradients, then accumulates the batch's gradient; micro_batch <= 0
/// or >= B: one pass over the whole batch.
StepResult train_step(Network &net, const float *x, const int32_t *labels, int64_t T, int64_t B,
                      int64_t micro_batch, const LossFn &loss);

}  // namespace snnc::rt::nn
