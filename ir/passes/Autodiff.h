// Autodiff.h — pass `autodiff`: the backward (BPTT) step of every cell, derived from the
// neuron definition by symbolic differentiation.
//
// Training a spiking network needs the gradient through the time recurrence of each
// neuron. Rather than hand-writing a backward function per neuron type, the compiler
// forward-substitutes the update statements into s[t] = F(s[t-1], I[t], spiked), and
// differentiates: dF/ds (the carry of the reverse time loop), dF/dI (what flows to the
// synaptic op below) and dh/ds for the spike condition h = lhs - rhs, whose Heaviside
// derivative is replaced by the chosen surrogate (fast_sigmoid, arctan, sigmoid, triangle,
// straight_through). The reset term reads `spiked`, which is detached (treated as a
// constant), as snnTorch does by default.
#pragma once
#include "Diagnostics.h"
#include "Model.h"

namespace snnc::ir {

bool differentiate_cells(Model &model, DiagnosticEngine &diags);

/// The surrogate derivative d spike / d h as an expression of `h` (nullptr: unknown name).
ExprPtr surrogate_derivative(const std::string &name, const std::vector<Param> &params,
                             const ExprPtr &h);

/// Known surrogate names and their parameters with defaults.
const std::vector<std::pair<std::string, std::vector<std::pair<std::string, double>>>>
    &surrogates();

}  // namespace snnc::ir
