// ModelPlan.cpp — ir::Model layers to the runtime's LayerSpecs.
#include "ModelPlan.h"

#include "CellCodeGen.h"
#include "TrainingSpecs.h"
#include "passes/PlanSynapses.h"

namespace snnc::backends {

namespace {

rt::nn::LayerSpec::Kind kind_of(ir::Layer::Kind k) {
  switch (k) {
    case ir::Layer::Input:
      return rt::nn::LayerSpec::Input;
    case ir::Layer::Linear:
      return rt::nn::LayerSpec::Linear;
    case ir::Layer::Conv2d:
      return rt::nn::LayerSpec::Conv2d;
    case ir::Layer::MaxPool:
      return rt::nn::LayerSpec::MaxPool;
    case ir::Layer::AvgPool:
      return rt::nn::LayerSpec::AvgPool;
    case ir::Layer::Flatten:
      return rt::nn::LayerSpec::Flatten;
    case ir::Layer::Dropout:
      return rt::nn::LayerSpec::Dropout;
    case ir::Layer::CellOp:
      return rt::nn::LayerSpec::Cell;
  }
  throw std::logic_error("unhandled layer kind");
}

}  // namespace

std::vector<rt::nn::LayerSpec> plan_layers(const ir::Model &model) {
  std::vector<rt::nn::LayerSpec> layers;
  for (const auto &l : model.layers) {
    rt::nn::LayerSpec s;
    s.kind = kind_of(l.kind);
    s.name = l.name;
    s.input = l.input;
    s.shape = l.shape;
    s.out_features = l.out_features;
    s.channels = l.channels;
    s.kernel = l.kernel;
    s.stride = l.stride;
    s.padding = l.padding;
    s.rate = l.rate;
    s.synapse = rt::nn::synapse_from_name(ir::synapse_name(l.synapse));
    s.event_threshold = l.event_threshold >= 0 ? l.event_threshold : ir::event_threshold(model, l);
    s.fused_pool = l.fused_pool;
    s.sparsity = l.sparsity;
    s.compressed = l.compressed;
    if (l.kind == ir::Layer::CellOp) {
      const ir::Cell &c = model.cells[l.cell];
      s.cell = c.name;
      s.states = c.output ? 0 : static_cast<int64_t>(c.states.size());
      s.spiking = !c.output;
      if (c.differentiated) {
        s.backward_reads_input = backward_reads(c, "I");
        s.backward_reads_output = backward_reads(c, "spiked");
      }
    }
    layers.push_back(std::move(s));
  }
  return layers;
}

rt::nn::ModelPlan plan_model(const ir::Model &model, const ir::TrainSpec &t, uint64_t seed) {
  rt::nn::ModelPlan p;
  p.network = model.name;
  p.layers = plan_layers(model);
  p.output = model.output;
  p.encoder = encoder_spec(t).kind;
  p.steps = t.steps;
  p.seed = seed;
  p.by_membrane = rt::nn::reads_membrane(loss_spec(t).kind);
  return p;
}

}  // namespace snnc::backends
