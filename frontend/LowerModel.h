// LowerModel.h — lowers a layer network of the AST, instantiated with arguments (e.g.
// `CSNN(cell = Leaky(beta = 0.9))`), to the trainable Model IR: shapes inferred layer by
// layer, each cell's neuron instantiated with constant parameters, `let` aliases and `+=`
// expanded. Errors (unknown layer kinds, bad shapes, ODE neurons as cells) are reported
// with locations.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "AST.h"
#include "Diagnostics.h"
#include "Model.h"

namespace snnc::frontend {

std::optional<ir::Model> lower_model(const ast::File &file, const std::string &network,
                                     const std::vector<ast::NamedValue> &args,
                                     DiagnosticEngine &diags, SourceLoc use = {});

}  // namespace snnc::frontend
