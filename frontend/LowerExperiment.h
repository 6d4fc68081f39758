// LowerExperiment.h — checks an `experiment` block and resolves it into an
// ir::ExperimentSpec (models lowered and differentiated). Unknown settings, bad values and
// unknown networks are reported with locations and "did you mean" hints.
#pragma once
#include <optional>
#include <string>

#include "AST.h"
#include "Diagnostics.h"
#include "Experiment.h"

namespace snnc::frontend {

/// The experiment named `name` ("" = the first one in the file).
std::optional<ir::ExperimentSpec> lower_experiment(const ast::File &file, const std::string &name,
                                                   DiagnosticEngine &diags);

}  // namespace snnc::frontend
