// Sema.h — semantic checks of a parsed .snn file: names, physical dimensions, arity.
//
// Everything a user can get wrong after the syntax is right is reported here, with
// file:line:col, a caret and, for unknown names, the closest known one: duplicate
// definitions, unknown neurons/parameters/variables/functions/units, adding a voltage
// to a time, an ODE whose right-hand side is not (unit of x)/s, bad connection options.
// It reports as many errors as it can in one run. LowerToIR assumes a checked file.
#pragma once
#include "AST.h"
#include "Diagnostics.h"

namespace snnc::frontend {

/// Returns true when the file has no semantic errors.
bool check(const ast::File &file, DiagnosticEngine &diags);

}  // namespace snnc::frontend
