// Plan.cpp — layer kind names and the JSON form of a ModelPlan.
#include "Plan.h"

#include <nlohmann/json.hpp>
#include <stdexcept>

namespace snnc::rt::nn {

namespace {

constexpr LayerSpec::Kind kKinds[] = {LayerSpec::Input,   LayerSpec::Linear,  LayerSpec::Conv2d,
                                      LayerSpec::MaxPool, LayerSpec::AvgPool, LayerSpec::Flatten,
                                      LayerSpec::Dropout, LayerSpec::Cell};

}  // namespace

const char *layer_kind_name(LayerSpec::Kind kind) {
  switch (kind) {
    case LayerSpec::Input:
      return "input";
    case LayerSpec::Linear:
      return "linear";
    case LayerSpec::Conv2d:
      return "conv2d";
    case LayerSpec::MaxPool:
      return "maxpool";
    case LayerSpec::AvgPool:
      return "avgpool";
    case LayerSpec::Flatten:
      return "flatten";
    case LayerSpec::Dropout:
      return "dropout";
    case LayerSpec::Cell:
      return "cell";
  }
  return "?";
}

LayerSpec::Kind layer_kind_from_name(const std::string &name) {
  for (LayerSpec::Kind k : kKinds)
    if (name == layer_kind_name(k)) return k;
  throw std::invalid_argument("unknown layer kind '" + name + "'");
}

int64_t parameter_count(const std::vector<LayerSpec> &layers) {
  int64_t n = 0;
  for (const auto &l : layers) {
    if (l.input < 0) continue;
    const auto &in = layers[l.input].shape;
    if (l.kind == LayerSpec::Linear) n += (elements(in) + 1) * l.out_features;
    if (l.kind == LayerSpec::Conv2d && !in.empty())
      n += (in[0] * l.kernel * l.kernel + 1) * l.channels;
  }
  return n;
}

double training_bytes(const std::vector<LayerSpec> &layers, int64_t T, int64_t B) {
  double values = 4.0 * static_cast<double>(parameter_count(layers));  // value, grad, 2 moments
  for (const auto &l : layers)
    values += 2.0 * static_cast<double>(elements(l.shape)) * (1 + l.states) * T * B;
  return values * sizeof(float);
}

std::string plan_to_json(const ModelPlan &p) {
  nlohmann::json layers = nlohmann::json::array();
  for (const auto &l : p.layers)
    layers.push_back({{"kind", layer_kind_name(l.kind)},
                      {"name", l.name},
                      {"input", l.input},
                      {"shape", l.shape},
                      {"out_features", l.out_features},
                      {"channels", l.channels},
                      {"kernel", l.kernel},
                      {"stride", l.stride},
                      {"padding", l.padding},
                      {"rate", l.rate},
                      {"synapse", synapse_name(l.synapse)},
                      {"fused_pool", l.fused_pool},
                      {"sparsity", l.sparsity},
                      {"compressed", l.compressed},
                      {"event_threshold", l.event_threshold},
                      {"cell", l.cell},
                      {"states", l.states},
                      {"spiking", l.spiking},
                      {"backward_reads_input", l.backward_reads_input},
                      {"backward_reads_output", l.backward_reads_output}});
  return nlohmann::json{
      {"network", p.network},         {"layers", layers},        {"output", p.output},
      {"encoder", p.encoder},         {"steps", p.steps},        {"seed", p.seed},
      {"by_membrane", p.by_membrane}, {"features", p.features()}}
      .dump();
}

ModelPlan plan_from_json(const std::string &text) {
  try {
    const nlohmann::json j = nlohmann::json::parse(text);
    ModelPlan p;
    p.network = j.at("network").get<std::string>();
    p.output = j.at("output").get<int>();
    p.encoder = j.at("encoder").get<std::string>();
    p.steps = j.at("steps").get<int64_t>();
    p.seed = j.at("seed").get<uint64_t>();
    p.by_membrane = j.at("by_membrane").get<bool>();
    for (const auto &l : j.at("layers")) {
      LayerSpec s;
      s.kind = layer_kind_from_name(l.at("kind").get<std::string>());
      s.name = l.at("name").get<std::string>();
      s.input = l.at("input").get<int>();
      s.shape = l.at("shape").get<std::vector<int64_t>>();
      s.out_features = l.at("out_features").get<int64_t>();
      s.channels = l.at("channels").get<int64_t>();
      s.kernel = l.at("kernel").get<int64_t>();
      s.stride = l.at("stride").get<int64_t>();
      s.padding = l.at("padding").get<int64_t>();
      s.rate = l.at("rate").get<double>();
      s.synapse = synapse_from_name(l.at("synapse").get<std::string>());
      s.fused_pool = l.at("fused_pool").get<int>();
      s.sparsity = l.at("sparsity").get<double>();
      s.compressed = l.at("compressed").get<bool>();
      s.event_threshold = l.at("event_threshold").get<double>();
      s.cell = l.at("cell").get<std::string>();
      s.states = l.at("states").get<int64_t>();
      s.spiking = l.at("spiking").get<bool>();
      s.backward_reads_input = l.at("backward_reads_input").get<bool>();
      s.backward_reads_output = l.at("backward_reads_output").get<bool>();
      p.layers.push_back(std::move(s));
    }
    if (p.output < 0 || p.output >= static_cast<int>(p.layers.size()))
      throw std::runtime_error("output layer " + std::to_string(p.output) + " does not exist");
    return p;
  } catch (const nlohmann::json::exception &e) {
    throw std::runtime_error(std::string("malformed model plan: ") + e.what());
  } catch (const std::invalid_argument &e) {
    throw std::runtime_error(std::string("malformed model plan: ") + e.what());
  }
}

}  // namespace snnc::rt::nn
