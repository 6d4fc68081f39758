// Inference.h — input encoding and batched prediction, shared by `snnc run`'s evaluation
// and the standalone binaries of `snnc build`, so both predict identically (bit for bit
// for the same seed): same encoder, same random stream, same batches.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "Network.h"
#include "Rng.h"

namespace snnc::rt::nn {

struct EncoderSpec {
  std::string kind = "rate";  ///< rate, direct, latency, delta
  int64_t steps = 25;
};

/// images [B][F] in [0, 1] -> network input [T][B][F].
void encode(const float *images, int64_t B, int64_t F, const EncoderSpec &e, Rng &rng,
            std::vector<float> &x);

/// Images per prediction batch (forward-only memory grows with it; 128 keeps the evaluation of
/// the MNIST CSNN in examples/mnist_csnn.snn under ~100 MiB of activations).
constexpr int64_t kPredictBatch = 128;

/// Fetches images [first, first + n) into out ([n][F] values in [0, 1]).
using ImageSource = std::function<void(int64_t first, int64_t n, float *out)>;
/// Predicts one encoded batch: x [T][b][F] and its images [b][F] -> b classes.
using BatchPredictor = std::function<std::vector<int32_t>(const std::vector<float> &x,
                                                          const float *images, int64_t b)>;

/// The batching every prediction shares (CPU, GPU, evaluation, standalone binaries): `count`
/// images in batches of `batch`, encoded with the stream (seed, 9001), each given to `run`.
std::vector<int32_t> predict_batches(const ImageSource &images, int64_t count, int64_t F,
                                     const EncoderSpec &e, uint64_t seed, int64_t batch,
                                     const BatchPredictor &run);

/// Predicts `count` images [count][F] in batches of `batch` (kPredictBatch by default: what
/// `snnc run` evaluates with; a rate encoder's draws depend on the batch size), encoding with
/// the stream (seed, 9001).
/// `by_membrane` decodes by the largest output membrane, else by the most output spikes.
/// `after_batch` (optional) sees the network after each batch's forward pass.
std::vector<int32_t> predict(Network &net, const ImageSource &images, int64_t count,
                             const EncoderSpec &e, uint64_t seed, bool by_membrane,
                             const std::function<void(int64_t batch_size)> &after_batch = {},
                             int64_t batch = kPredictBatch);
/// The same from images in memory, [count][F].
std::vector<int32_t> predict(Network &net, const float *images, int64_t count, const EncoderSpec &e,
                             uint64_t seed, bool by_membrane,
                             const std::function<void(int64_t batch_size)> &after_batch = {},
                             int64_t batch = kPredictBatch);

}  // namespace snnc::rt::nn
