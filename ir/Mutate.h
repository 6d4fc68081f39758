// Mutate.h — applies an expression rewrite to every expression of a module
// (the IR's equivalent of Halide's IRMutator, for passes that work expression-wise).
#pragma once
#include <functional>

#include "IR.h"

namespace snnc::ir {

void mutate_exprs(Module &m, const std::function<ExprPtr(const ExprPtr &)> &fn);

}  // namespace snnc::ir
