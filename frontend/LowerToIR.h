// LowerToIR.h — the one bridge from the checked AST to the simulation IR.
//
// Instantiates each population's neuron definition (parameter overrides applied,
// `let` aliases substituted, `+=` spelled out, an implicit dimensionless input `I` when
// the neuron reads one it did not declare), expands `connect A -> B, C` into one
// connection per pair, and turns records into IR records. Literals keep their units:
// the `fold-units` pass converts them.
#pragma once
#include <optional>
#include <string>

#include "AST.h"
#include "Diagnostics.h"
#include "IR.h"

namespace snnc::frontend {

/// Lowers simulation `name` (the file's first when empty) of a checked file.
std::optional<ir::Module> lower_simulation(const ast::File &file, const std::string &name,
                                           DiagnosticEngine &diags);

}  // namespace snnc::frontend
