// Verifier.h — structural checks of a Module, run after parsing and after every pass.
//
// Catches what a buggy pass or a hand-written IR file can get wrong: unknown names,
// assignments to non-state variables, lets used before definition, bad propagator
// indices, dangling connections and records. Reports with locations; returns false on error.
#pragma once
#include "Diagnostics.h"
#include "IR.h"

namespace snnc::ir {

bool verify(const Module &module, DiagnosticEngine &diags);

/// Builtin names every population expression may read.
bool is_builtin_var(const std::string &name);

}  // namespace snnc::ir
