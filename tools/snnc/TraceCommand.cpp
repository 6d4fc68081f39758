// TraceCommand.cpp — per-step trace of one input through a model.
#include "TraceCommand.h"

#include <fmt/format.h>

#include <cmath>
#include <iostream>
#include <nlohmann/json.hpp>

#include "Inference.h"
#include "Loss.h"
#include "LowerExperiment.h"
#include "ModelCompiler.h"
#include "Network.h"
#include "Rng.h"
#include "Simulation.h"
#include "TrainingSpecs.h"
#include "Weights.h"
#include "train/Idx.h"
#include "train/Safetensors.h"

namespace snnc::driver {

int run_trace(const TraceOptions &o, const ast::File &file, DiagnosticEngine &diags) {
  auto spec = frontend::lower_experiment(file, o.experiment, diags);
  if (!spec) return 1;
  try {
    auto [model, chosen_train] = ir::choose(*spec, o.compare);
    ir::TrainSpec t = chosen_train;
    if (o.steps > 0) t.steps = o.steps;
    backends::CompiledModel compiled(model);
    rt::nn::Network net(compiled.layers(), compiled.output());
    auto tensors = rt::read_safetensors(o.weights);
    rt::nn::load_weights(net, tensors, o.weights);
    rt::IdxArray images = rt::read_idx(o.input);
    int64_t F = net.features(0), K = net.features(net.output()), T = t.steps;
    int64_t per_image = 1;
    for (size_t d = 1; d < images.dims.size(); ++d) per_image *= images.dims[d];
    if (per_image != F)
      throw std::runtime_error(o.input + ": images of " + std::to_string(per_image) +
                               " values, the network takes " + std::to_string(F));
    if (o.index < 0 || o.index >= images.dims[0])
      throw std::runtime_error(o.input + ": no image " + std::to_string(o.index) + " (it has " +
                               std::to_string(images.dims[0]) + ")");
    std::vector<float> image(F);
    for (int64_t i = 0; i < F; ++i) image[i] = images.data[o.index * F + i] / 255.f;
    std::vector<float> x;  // the same encoders as training and evaluation (latency included)
    rt::Rng rng(spec->seed, 4242);
    rt::nn::encode(image.data(), 1, F, backends::encoder_spec(t), rng, x);
    const auto &out = net.forward(x.data(), T, 1);
    nlohmann::json j = {{"experiment", spec->name},
                        {"network", model.name},
                        {"input", o.input},
                        {"index", o.index},
                        {"steps", T},
                        {"encoder", t.encoder}};
    nlohmann::json layers = nlohmann::json::array();
    std::cout << fmt::format("snnc trace: {} on image {} of {} ({} steps, {} encoding)\n",
                             model.name, o.index, o.input, T, t.encoder);
    std::cout << "step  input";
    for (const auto &l : net.layers())
      if (l.kind == rt::nn::LayerSpec::Cell) std::cout << fmt::format(" {:>10}", l.name);
    std::cout << "   output\n";
    for (int64_t s = 0; s < T; ++s) {
      double in = 0;
      for (int64_t i = 0; i < F; ++i) in += x[s * F + i];
      std::cout << fmt::format("{:>4} {:>6g}", s, in);
      for (size_t li = 0; li < net.layers().size(); ++li) {
        if (net.layers()[li].kind != rt::nn::LayerSpec::Cell) continue;
        int64_t n = net.features(static_cast<int>(li));
        double sum = 0;
        for (int64_t k = 0; k < n; ++k) sum += net.activation(static_cast<int>(li))[s * n + k];
        std::cout << fmt::format(" {:>10g}", sum);
      }
      std::cout << "   ";
      for (int64_t k = 0; k < K; ++k)
        std::cout << (out[s * K + k] != 0 ? static_cast<char>('0' + k % 10) : '.');
      std::cout << "\n";
    }
    const rt::nn::LossSpec loss_spec = backends::loss_spec(t);
    const int output = net.output();
    const int64_t S = net.layers()[output].states;
    // decoded as training and evaluation decode it: by membrane for the membrane losses
    auto pred = rt::nn::reads_membrane(loss_spec.kind) && S > 0
                    ? rt::nn::predict_by_max_membrane(net.post_state(output), T, 1, K, S)
                    : rt::nn::predict_by_count(out, T, 1, K);
    std::cout << "prediction: " << pred[0] << "\n";
    j["prediction"] = pred[0];
    for (size_t li = 0; li < net.layers().size(); ++li) {
      const auto &l = net.layers()[li];
      if (l.kind != rt::nn::LayerSpec::Cell) continue;
      layers.push_back({{"name", l.name},
                        {"features", net.features(static_cast<int>(li))},
                        {"output", net.activation(static_cast<int>(li))},
                        {"state", net.post_state(static_cast<int>(li))},
                        {"states_per_element", l.states}});
    }
    j["layers"] = layers;
    if (o.label >= 0) {
      if (o.label >= K)
        throw std::runtime_error("label " + std::to_string(o.label) + " is not below " +
                                 std::to_string(K));
      int32_t label = static_cast<int32_t>(o.label);
      auto loss = rt::nn::compute_loss(loss_spec, out, net.post_state(output), S, &label, T, 1, K);
      net.zero_grad();
      net.backward(loss.grad.data(), loss.state_grad.empty() ? nullptr : loss.state_grad.data());
      std::cout << fmt::format("loss ({}) for label {}: {:.6g}\n", t.loss, o.label, loss.loss);
      j["label"] = o.label;
      j["loss"] = loss.loss;
      nlohmann::json grads = nlohmann::json::object();
      for (const auto &p : net.params()) {
        double sq = 0;
        for (float g : p.grad) sq += static_cast<double>(g) * g;
        std::cout << fmt::format("  grad {:<20} norm {:.6g}\n", p.name, std::sqrt(sq));
        grads[p.name] = {{"shape", p.shape}, {"norm", std::sqrt(sq)}, {"values", p.grad}};
      }
      j["gradients"] = grads;
    }
    if (!o.out.empty()) {
      rt::write_file_atomic(o.out, j.dump() + "\n");
      std::cout << "trace: " << o.out << "\n";
    }
    return 0;
  } catch (const std::exception &e) {
    std::cerr << "snnc: error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace snnc::driver
