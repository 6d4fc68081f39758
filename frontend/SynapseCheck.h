// SynapseCheck.h — semantic checks of synapse models and of the connections that use them.
//
// A synapse definition is checked on its own (parameters, per-synapse state, traces and
// their ODEs, which must be linear decays); its on_pre/on_post blocks are checked at each
// use, where the postsynaptic neuron they deliver to is known: what each block may set,
// names, dimensions, and the arguments of `with Model(...)`.
#pragma once
#include <optional>
#include <set>
#include <string>

#include "AST.h"
#include "DimensionChecker.h"

namespace snnc::frontend {

/// The names a synapse model declares (params, per-synapse states, traces, lets).
struct SynapseScope {
  NeuronScope names;
  std::set<std::string> pre_traces, post_traces;
};

/// Checks a synapse definition; returns its scope for the checks of its uses.
SynapseScope check_synapse(const ast::SynapseDef &def, DiagnosticEngine &diags);

/// Checks `connect ... with def(args)` onto neurons with the variables in `post`
/// (`post_neuron` names them in messages). `weight` is the connection's `w = ...`, if any,
/// with its dimension.
void check_synapse_use(const ast::SynapseDef &def, const SynapseScope &scope,
                       const ast::ConnectDecl &use, const NeuronScope &post,
                       const std::string &post_neuron, const ast::Arg *weight,
                       std::optional<Dim> weight_dim, DiagnosticEngine &diags);

/// The decay rate r of a trace ODE `dx/dt = r * x` (r reads parameters only), or null.
ir::ExprPtr linear_decay_rate(const ir::ExprPtr &rhs, const std::string &var,
                              const std::set<std::string> &params);

}  // namespace snnc::frontend
