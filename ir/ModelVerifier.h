// ModelVerifier.h — structural checks of a Model, run after parsing and after every
// model pass.
//
// Catches what a buggy pass, a frontend change or a hand-written model IR file can get
// wrong: layers reading later layers, shapes that do not follow from a layer's kind and
// input, dangling cell or layer indices, a missing output, cell statements reading unknown
// names, a differentiated cell whose next/surrogate_input/backward do not match its
// states, a fused pool that its conv cannot compute. Reports with locations; returns false
// on error.
#pragma once
#include "Diagnostics.h"
#include "Model.h"

namespace snnc::ir {

bool verify(const Model &model, DiagnosticEngine &diags);

}  // namespace snnc::ir
