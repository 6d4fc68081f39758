// SimJIT.h — compiles a simulation's LLVM module in-process (ORC LLJIT) and returns
// its entry points. The runtime's C ABI functions are bound explicitly, so the JIT
// code needs nothing else from the host process but libm.
#pragma once
#include <memory>

#include "Simulation.h"

namespace llvm {
class LLVMContext;
class Module;
}  // namespace llvm

namespace snnc::backends {

class Jit;

class SimJIT {
 public:
  /// Takes ownership of the module and its context; compiles it. Throws on failure.
  SimJIT(std::unique_ptr<llvm::Module> module, std::unique_ptr<llvm::LLVMContext> context);
  ~SimJIT();
  const rt::SimFunctions &functions() const { return fns_; }

 private:
  std::unique_ptr<Jit> jit_;
  rt::SimFunctions fns_;
};

}  // namespace snnc::backends
