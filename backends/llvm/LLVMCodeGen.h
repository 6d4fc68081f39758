// LLVMCodeGen.h — lowers an optimized simulation module to LLVM IR.
//
// Emits the three entry points of snnc_rt.h (`snnc_sim_setup`, `snnc_sim_init`,
// `snnc_sim_run`) plus one internal function per population (the fused neuron kernel:
// a branch-free loop over neurons with noalias array arguments, so LLVM vectorizes it,
// followed by spike compaction) and one per connection (CSR propagation of this step's
// spikes). The whole time loop lives in generated code: no per-step dispatch.
#pragma once
#include <memory>

#include "IR.h"
#include "SimLayout.h"

namespace llvm {
class LLVMContext;
class Module;
class TargetMachine;
}  // namespace llvm

namespace snnc::backends {

std::unique_ptr<llvm::Module> generate_llvm(const ir::Module &module, const SimLayout &layout,
                                            llvm::LLVMContext &context);

}  // namespace snnc::backends
