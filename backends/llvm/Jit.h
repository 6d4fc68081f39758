// Jit.h — an in-process ORC LLJIT for one LLVM module, with the runtime's C ABI bound.
//
// The runtime functions are bound as absolute symbols, so JIT code needs nothing from the
// host process but libm (found by searching the process).
#pragma once
#include <memory>
#include <string>

namespace llvm {
class LLVMContext;
class Module;
namespace orc {
class LLJIT;
}
}  // namespace llvm

namespace snnc::backends {

class Jit {
 public:
  /// Takes ownership of the module and its context. Throws std::runtime_error on failure.
  Jit(std::unique_ptr<llvm::Module> module, std::unique_ptr<llvm::LLVMContext> context);
  ~Jit();
  /// Address of a function of the module (compiled on first lookup); throws if missing.
  void *lookup(const std::string &name);

 private:
  std::unique_ptr<llvm::orc::LLJIT> jit_;
};

}  // namespace snnc::backends
