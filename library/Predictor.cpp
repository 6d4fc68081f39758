// Predictor.cpp — a trained network of an experiment loaded with a checkpoint's weights,
// classifying images the way the experiment's evaluation does.
#include <cmath>

#include "Inference.h"
#include "LowerExperiment.h"
#include "ModelCompiler.h"
#include "Network.h"
#include "ProgramImpl.h"
#include "TrainingSpecs.h"
#include "Weights.h"
#include "train/Safetensors.h"

namespace snnc {

struct Predictor::Impl {
  ir::Model model;
  ir::TrainSpec train;
  uint64_t seed = 0;
  std::unique_ptr<backends::CompiledModel> compiled;
  std::unique_ptr<rt::nn::Network> net;
};

Predictor Predictor::load(const Program &program, const std::string &weights,
                          const std::string &experiment, bool compare) {
  DiagnosticEngine diags = driver::quiet_diagnostics(program.impl());
  auto spec = frontend::lower_experiment(program.impl().file, experiment, diags);
  if (!spec) throw CompileError(driver::render_all(diags));
  if (compare && !spec->compare)
    throw std::runtime_error("experiment '" + spec->name + "' has no `compare` twin");
  auto impl = std::make_shared<Impl>();
  auto [model, train] = ir::choose(*spec, compare);
  impl->model = model;
  impl->train = train;
  impl->seed = spec->seed;
  impl->compiled = std::make_unique<backends::CompiledModel>(impl->model);
  impl->net = std::make_unique<rt::nn::Network>(impl->compiled->layers(), impl->compiled->output());
  rt::nn::load_weights(*impl->net, rt::read_safetensors(weights), weights);
  impl->net->set_training(false);
  return Predictor(std::move(impl));
}

int64_t Predictor::features() const {
  return impl_->net->features(0);
}
int64_t Predictor::classes() const {
  return impl_->net->features(impl_->net->output());
}
int64_t Predictor::steps() const {
  return impl_->train.steps;
}
const std::string &Predictor::network() const {
  return impl_->model.name;
}

std::vector<int32_t> Predictor::predict(const float *images, int64_t count) {
  if (count < 0) throw std::invalid_argument("a negative number of images");
  const int64_t n = count * features();
  for (int64_t i = 0; i < n; ++i)
    if (!(images[i] >= 0.f && images[i] <= 1.f))
      throw std::invalid_argument("image " + std::to_string(i / features()) + ", value " +
                                  std::to_string(i % features()) + " is " +
                                  std::to_string(images[i]) + ": inputs must lie in [0, 1]");
  return rt::nn::predict(*impl_->net, images, count, backends::encoder_spec(impl_->train),
                         impl_->seed,
                         rt::nn::reads_membrane(backends::loss_spec(impl_->train).kind));
}

}  // namespace snnc
