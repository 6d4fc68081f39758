// ModelPlan.h — the runtime's plan of a differentiated, optimized ir::Model (runtime/nn/Plan.h):
// the one place where the model IR's layers become the executors' LayerSpecs. The JIT
// (ModelCompiler), the CUDA device network and the standalone binaries all start from it.
#pragma once
#include <cstdint>
#include <vector>

#include "Experiment.h"
#include "Model.h"
#include "Plan.h"

namespace snnc::backends {

/// The layers, without kernels (each executor attaches its own by LayerSpec::cell).
std::vector<rt::nn::LayerSpec> plan_layers(const ir::Model &model);

/// The whole plan: layers, output, the encoder and decoding of training spec `t`, the seed
/// of the encoder's stream.
rt::nn::ModelPlan plan_model(const ir::Model &model, const ir::TrainSpec &t, uint64_t seed);

}  // namespace snnc::backends
