// ModelParser.h — reads the textual model IR printed by ModelPrinter (`model NAME { ... }`,
// one or more) back into Models.
//
// Used by `snnc opt` on model IR files and by lit tests that run one model pass on
// hand-written IR. Errors are reported with file:line:col and a caret; the result is
// nullopt if there were any. Structural checks beyond what the text itself must get right
// (shapes, cell statements) are the ModelVerifier's.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "Diagnostics.h"
#include "Model.h"

namespace snnc::ir {

std::optional<std::vector<Model>> parse_models(const SourceBuffer &buffer, DiagnosticEngine &diags);

/// Whether `text` holds model IR: its first word is `model` (simulation IR starts with
/// `module`).
bool is_model_text(const std::string &text);

}  // namespace snnc::ir
