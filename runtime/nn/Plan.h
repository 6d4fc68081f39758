// Plan.h — a compiled trainable network as every executor receives it: the layers (Layers.h,
// kernels attached by the executor's owner), the output layer, and how inputs are encoded and
// outputs decoded. The compiler builds it in one place (backends/ModelPlan) and standalone
// binaries carry it as JSON (plan_to_json / plan_from_json), so the CPU network, the device
// network and the inference main read one definition. Layer kinds have one name each here.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "Layers.h"

namespace snnc::rt::nn {

struct ModelPlan {
  std::string network;
  std::vector<LayerSpec> layers;
  int output = -1;
  std::string encoder = "rate";  ///< EncoderSpec::kind (Inference.h)
  int64_t steps = 1;
  uint64_t seed = 0;
  bool by_membrane = false;  ///< decode by the largest output membrane, not by spike count

  int64_t features() const { return layers.empty() ? 0 : elements(layers[0].shape); }
};

/// The language's name of a layer kind ("linear", "cell", ...), and back (throws
/// std::invalid_argument naming an unknown one).
const char *layer_kind_name(LayerSpec::Kind kind);
LayerSpec::Kind layer_kind_from_name(const std::string &name);

/// Weights and biases of the layers.
int64_t parameter_count(const std::vector<LayerSpec> &layers);

/// An upper estimate of a training run's memory in bytes: the parameters with their
/// gradients and two optimizer moments, and every layer's activations and their gradients
/// (states too, for cells) for T steps of B samples.
double training_bytes(const std::vector<LayerSpec> &layers, int64_t T, int64_t B);

/// The plan as JSON text, and back. Kernel pointers are not part of it (cells are found by
/// LayerSpec::cell); a malformed plan throws std::runtime_error naming what is wrong.
std::string plan_to_json(const ModelPlan &plan);
ModelPlan plan_from_json(const std::string &text);

}  // namespace snnc::rt::nn
