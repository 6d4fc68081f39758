// Experiment.h — a resolved `experiment` block: data, encoding, the model (and its ANN
// twin), loss, optimizer and schedule. Produced by frontend/LowerExperiment, run by
// `snnc run`.
#pragma once
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <utility>
#include <string>

#include "Model.h"

namespace snnc::ir {

/// How one network is trained and fed.
struct TrainSpec {
  std::string encoder = "rate";    ///< rate (Bernoulli), direct (the image every step), latency
  int64_t steps = 25;              ///< time steps per sample
  std::string loss = "mse_count";  ///< mse_count, cross_entropy
  double correct = 0.8, incorrect = 0.2;
  std::string optim = "adam";  ///< adam, sgd
  double lr = 2e-3, momentum = 0, weight_decay = 0;
};

struct ExperimentSpec {
  std::string name;
  std::string dataset = "mnist";  ///< mnist, fashion_mnist
  std::string data_dir;           ///< "" = the dataset's default directory
  int64_t epochs = 1, batch = 128;
  int64_t train_limit = 0, test_limit = 0;  ///< 0 = all samples
  uint64_t seed = 1;
  int64_t replicates = 1;
  std::string schedule = "constant";
  double clip = 0;  ///< gradient norm clipping (0 = off)
  Model model;
  TrainSpec model_train;
  std::optional<Model> compare;  ///< the ANN (or other) twin
  TrainSpec compare_train;
};

/// The model or its `compare` twin, with how it is trained; throws if there is no twin.
inline std::pair<const Model &, const TrainSpec &> choose(const ExperimentSpec &s, bool compare) {
  if (!compare) return {s.model, s.model_train};
  if (!s.compare) throw std::runtime_error("experiment '" + s.name + "' has no `compare` twin");
  return {*s.compare, s.compare_train};
}

}  // namespace snnc::ir
