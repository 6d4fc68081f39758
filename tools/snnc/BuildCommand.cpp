// BuildCommand.cpp — plan JSON, object emission and linking of a standalone binary.
#include "BuildCommand.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "InferLibs.h"
#include "LowerExperiment.h"
#include "ObjectEmitter.h"
#include "passes/PlanSynapses.h"
#include "train/Safetensors.h"

namespace snnc::driver {
namespace {

const char *kind_name(ir::Layer::Kind k) {
  switch (k) {
    case ir::Layer::Input:
      return "input";
    case ir::Layer::Linear:
      return "linear";
    case ir::Layer::Conv2d:
      return "conv2d";
    case ir::Layer::MaxPool:
      return "maxpool";
    case ir::Layer::AvgPool:
      return "avgpool";
    case ir::Layer::Flatten:
      return "flatten";
    case ir::Layer::Dropout:
      return "dropout";
    case ir::Layer::CellOp:
      return "cell";
  }
  return "?";
}

nlohmann::json plan_of(const ir::Model &m, const ir::TrainSpec &t, uint64_t seed) {
  nlohmann::json layers = nlohmann::json::array();
  for (const auto &l : m.layers) {
    const ir::Cell *c = l.kind == ir::Layer::CellOp ? &m.cells[l.cell] : nullptr;
    layers.push_back({{"kind", kind_name(l.kind)},
                      {"name", l.name},
                      {"input", l.input},
                      {"shape", l.shape},
                      {"out_features", l.out_features},
                      {"channels", l.channels},
                      {"kernel", l.kernel},
                      {"stride", l.stride},
                      {"padding", l.padding},
                      {"rate", l.rate},
                      {"synapse", ir::synapse_name(l.synapse)},
                      {"fused_pool", l.fused_pool},
                      {"event_threshold",
                       l.event_threshold >= 0 ? l.event_threshold : ir::event_threshold(m, l)},
                      {"cell", c ? c->name : ""},
                      {"states", c && !c->output ? static_cast<int64_t>(c->states.size()) : 0},
                      {"spiking", c && !c->output}});
  }
  int64_t features = 1;
  for (int64_t d : m.layers[0].shape) features *= d;
  return {{"network", m.name},
          {"layers", layers},
          {"output", m.output},
          {"encoder", t.encoder},
          {"steps", t.steps},
          {"seed", seed},
          {"by_membrane", t.loss == "cross_entropy_membrane" || t.loss == "mse_membrane"},
          {"features", features}};
}

/// Checks the checkpoint has every parameter of the model with the right shape.
void check_weights(const ir::Model &m, const std::vector<rt::NamedTensor> &tensors,
                   const std::string &path) {
  for (const auto &l : m.layers) {
    if (l.kind != ir::Layer::Linear && l.kind != ir::Layer::Conv2d) continue;
    const auto &in = m.layers[l.input].shape;
    int64_t in_features = 1;
    for (int64_t d : in) in_features *= d;
    std::vector<int64_t> w = l.kind == ir::Layer::Linear
                                 ? std::vector<int64_t>{l.out_features, in_features}
                                 : std::vector<int64_t>{l.channels, in[0], l.kernel, l.kernel};
    std::vector<int64_t> b = {l.kind == ir::Layer::Linear ? l.out_features : l.channels};
    for (const auto &[suffix, shape] : {std::pair{".weight", w}, std::pair{".bias", b}}) {
      std::string name = l.name + suffix;
      auto it = std::find_if(tensors.begin(), tensors.end(),
                             [&](const rt::NamedTensor &t) { return t.name == name; });
      if (it == tensors.end())
        throw std::runtime_error(path + ": no tensor '" + name + "' for network '" + m.name + "'");
      if (it->shape != shape)
        throw std::runtime_error(path + ": tensor '" + name +
                                 "' has the wrong shape for network '" + m.name + "'");
    }
  }
}

std::string quote(const std::string &s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

int run_build(const BuildOptions &o, const ast::File &file, DiagnosticEngine &diags) {
  auto spec = frontend::lower_experiment(file, o.experiment, diags);
  if (!spec) return 1;
  try {
    auto [model, t] = ir::choose(*spec, o.compare);
    std::ifstream in(o.weights, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read weights '" + o.weights + "'");
    std::stringstream bytes;
    bytes << in.rdbuf();
    std::string weights = bytes.str();
    std::map<std::string, std::string> meta;
    auto tensors = rt::parse_safetensors(weights, o.weights, &meta);  // validate before embedding
    if (!meta["snnc_network"].empty() && meta["snnc_network"] != model.name)
      throw std::runtime_error(o.weights + " holds weights of network '" + meta["snnc_network"] +
                               "', not '" + model.name + "'");
    check_weights(model, tensors, o.weights);
    std::string object = o.output + ".o.tmp." + std::to_string(getpid());
    backends::emit_model_object(model, plan_of(model, t, spec->seed).dump(), weights, object,
                                o.target);
    std::string cmd = "c++ -o " + quote(o.output) + " " + quote(object) + " -Wl,--start-group";
    std::stringstream libs(SNNC_INFER_LIBS);
    for (std::string lib; std::getline(libs, lib, ';');) cmd += " " + quote(lib);
    cmd += " -Wl,--end-group -lopenblas -lz -lpthread -lm";
    int rc = std::system(cmd.c_str());
    std::filesystem::remove(object);
    if (rc != 0) throw std::runtime_error("linking failed (" + cmd + ")");
    std::cout << "snnc: built " << o.output << " (network " << model.name << ", " << tensors.size()
              << " weight tensors embedded, CPU " << o.target << "); try: " << o.output
              << " --help\n";
    return 0;
  } catch (const std::exception &e) {
    std::cerr << "snnc: error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace snnc::driver
