// Optimize.h — the host target machine and LLVM's O3 pipeline for it.
//
// Vectorization needs the target's cost model: the pass builder is given the target
// machine, and the module its triple and data layout, before the pipeline runs.
#pragma once
#include <memory>
#include <string>

namespace llvm {
class Module;
class TargetMachine;
}  // namespace llvm

namespace snnc::backends {

/// The machine snnc runs on (CPU name and features detected). Throws on failure.
std::unique_ptr<llvm::TargetMachine> host_target_machine();

/// Sets the module's triple/data layout for `tm` and runs the O3 pipeline.
void optimize_module(llvm::Module &module, llvm::TargetMachine &tm);

/// Textual LLVM IR of a module.
std::string to_text(const llvm::Module &module);

}  // namespace snnc::backends
