// DiscretiseOdes.h — pass `discretise-odes`: continuous dynamics become a step block.
//
// A population's `ode x = f` lines say dx/dt = f; the generated code needs the state at
// t + dt from the state at t. The pass picks the integrator per population (unless the
// neuron named one with `method`):
//   exact              the system is linear with coefficients that depend only on
//                      parameters: x(t+dt) = exp(A dt) x + (int_0^dt exp(A s) ds) c, with the
//                      propagator matrix computed once at setup (no integration error);
//   exponential_euler  each equation is linear in its own variable (dx/dt = a x + b, a and b
//                      depending on other state): x + f * expm1(a dt) / a (Hodgkin-Huxley);
//   rk4                classic fourth-order Runge-Kutta otherwise (Izhikevich);
//   euler              forward Euler, on request.
// Inputs (`I`) are held constant over the step. The result is `let _next_x = ...` for
// every variable followed by `set x = _next_x` (all equations advance simultaneously),
// placed before any user-written discrete update.
#pragma once
#include "Diagnostics.h"
#include "IR.h"

namespace snnc::ir {

bool discretise_odes(Module &module, DiagnosticEngine &diags);

}  // namespace snnc::ir
