// ModelCompiler.cpp — cell kernels through LLVM O3 and the JIT; layer plan for the runtime.
#include "ModelCompiler.h"

#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>

#include <stdexcept>

#include "CellCodeGen.h"
#include "Jit.h"
#include "Optimize.h"
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
  return rt::nn::LayerSpec::Input;
}
}  // namespace

CompiledModel::CompiledModel(const ir::Model &model, std::string *llvm_text)
    : output_(model.output) {
  for (const auto &c : model.cells)
    if (!c.differentiated) throw std::logic_error("cell '" + c.name + "' was not differentiated");
  auto context = std::make_unique<llvm::LLVMContext>();
  auto module = std::make_unique<llvm::Module>("snnc.model." + model.name, *context);
  generate_cell_kernels(model, *module);
  std::string err;
  llvm::raw_string_ostream os(err);
  if (llvm::verifyModule(*module, &os))
    throw std::logic_error("generated cell kernels are invalid: " + err);
  auto tm = host_target_machine();
  optimize_module(*module, *tm);
  if (llvm_text) *llvm_text = to_text(*module);
  jit_ = std::make_unique<Jit>(std::move(module), std::move(context));
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
      s.forward = reinterpret_cast<rt::nn::CellForward>(jit_->lookup("cell_fwd." + c.name));
      s.backward = reinterpret_cast<rt::nn::CellBackward>(jit_->lookup("cell_bwd." + c.name));
      if (!c.output) {
        s.forward_from =
            reinterpret_cast<rt::nn::CellForwardFrom>(jit_->lookup("cell_fwd_from." + c.name));
        s.backward_from =
            reinterpret_cast<rt::nn::CellBackwardFrom>(jit_->lookup("cell_bwd_from." + c.name));
      }
      s.states = c.output ? 0 : static_cast<int64_t>(c.states.size());
      s.spiking = !c.output;
      s.backward_reads_input = backward_reads(c, "I");
      s.backward_reads_output = backward_reads(c, "spiked");
    }
    layers_.push_back(std::move(s));
  }
}

CompiledModel::~CompiledModel() = default;

}  // namespace snnc::backends
