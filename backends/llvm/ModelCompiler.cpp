// ModelCompiler.cpp — cell kernels through LLVM O3 and the JIT, attached to the model's plan.
#include "ModelCompiler.h"

#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>

#include <stdexcept>

#include "CellCodeGen.h"
#include "Jit.h"
#include "ModelPlan.h"
#include "Optimize.h"

namespace snnc::backends {

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
  layers_ = plan_layers(model);
  for (auto &s : layers_) {
    if (s.kind != rt::nn::LayerSpec::Cell) continue;
    s.forward = reinterpret_cast<rt::nn::CellForward>(jit_->lookup("cell_fwd." + s.cell));
    s.backward = reinterpret_cast<rt::nn::CellBackward>(jit_->lookup("cell_bwd." + s.cell));
    if (s.spiking) {
      s.forward_from =
          reinterpret_cast<rt::nn::CellForwardFrom>(jit_->lookup("cell_fwd_from." + s.cell));
      s.backward_from =
          reinterpret_cast<rt::nn::CellBackwardFrom>(jit_->lookup("cell_bwd_from." + s.cell));
    }
  }
}

CompiledModel::~CompiledModel() = default;

}  // namespace snnc::backends
