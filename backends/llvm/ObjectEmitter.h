// ObjectEmitter.h — ahead-of-time compilation of a trained model for `snnc build`: an
// object file (position-independent, for an explicit CPU) holding the cell kernels and,
// as data, the execution plan and the weights, in the layout runtime/infer expects.
#pragma once
#include <string>

#include "Model.h"

namespace snnc::backends {

/// `cpu` is "native" (this machine's CPU and features) or an LLVM CPU name (e.g. x86-64-v3).
/// Throws std::runtime_error on failure.
void emit_model_object(const ir::Model &model, const std::string &plan_json,
                       const std::string &weights, const std::string &path, const std::string &cpu);

}  // namespace snnc::backends
