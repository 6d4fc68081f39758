// LowerExperiment.h — checks an `experiment` block and resolves it into an
// ir::ExperimentSpec (models lowered, then through the default model pipeline: autodiff,
// fuse-conv-pool, plan-synapses). Unknown settings, bad values and unknown networks are
// reported with locations and "did you mean" hints.
#pragma once
#include <optional>
#include <string>

#include "AST.h"
#include "Diagnostics.h"
#include "Experiment.h"

namespace snnc::frontend {

/// The experiment named `name` ("" = the first one in the file); with `run_model_passes`
/// false, its models as lowered, before any model pass (what `snnc emit --ir` prints).
std::optional<ir::ExperimentSpec> lower_experiment(const ast::File &file, const std::string &name,
                                                   DiagnosticEngine &diags,
                                                   bool run_model_passes = true);

}  // namespace snnc::frontend
