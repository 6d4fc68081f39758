// ModelCompiler.h — JIT-compiles the cell kernels of a differentiated Model and returns
// the runtime's execution plan (rt::nn::LayerSpec list with kernel function pointers).
// The object keeps the compiled code alive.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "Model.h"
#include "Network.h"

namespace snnc::backends {

class Jit;

class CompiledModel {
 public:
  /// Throws std::runtime_error on failure. `llvm_text`, if non-null, receives the optimized IR.
  explicit CompiledModel(const ir::Model &model, std::string *llvm_text = nullptr);
  ~CompiledModel();
  const std::vector<rt::nn::LayerSpec> &layers() const { return layers_; }
  int output() const { return output_; }

 private:
  std::unique_ptr<Jit> jit_;
  std::vector<rt::nn::LayerSpec> layers_;
  int output_ = -1;
};

}  // namespace snnc::backends
