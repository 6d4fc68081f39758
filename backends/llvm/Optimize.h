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

/// Sets the module's triple/data layout for `tm` and runs the O3 pipeline. With
/// `vector_math`, loops calling exp, expm1 or log on doubles are vectorized with glibc's
/// vector math library (libmvec, which the JIT loads); results differ from the scalar
/// functions by a few units in the last place.
void optimize_module(llvm::Module &module, llvm::TargetMachine &tm, bool vector_math = false);

/// Textual LLVM IR of a module.
std::string to_text(const llvm::Module &module);

}  // namespace snnc::backends
