// IRParser.h — reads the textual IR printed by IRPrinter back into a Module.
//
// Used by `snnc opt` and by lit tests that run one pass on hand-written IR. Errors are
// reported with file:line:col and a caret; the result is nullopt if there were any.
#pragma once
#include <optional>

#include "Diagnostics.h"
#include "IR.h"

namespace snnc::ir {

std::optional<Module> parse_module(const SourceBuffer &buffer, DiagnosticEngine &diags);

}  // namespace snnc::ir
