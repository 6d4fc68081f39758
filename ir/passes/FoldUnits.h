// FoldUnits.h — pass `fold-units`: physical units become SI doubles, constants fold.
//
// The frontend keeps literals as written (`20[ms]`) so that dumps and diagnostics read
// like the source. Dimensions were checked by Sema, so from here on a quantity is just
// its SI value: `20[ms]` becomes `0.02`, and constant subexpressions (`1 / (2 * 0.01)`)
// and identities (`x * 1`, `x + 0`) are folded so later passes and codegen see less.
// Parameters stay symbolic: they are run-time arguments (`snnc run --set`).
#pragma once
#include "Diagnostics.h"
#include "IR.h"

namespace snnc::ir {

bool fold_units(Module &module, DiagnosticEngine &diags);

}  // namespace snnc::ir
