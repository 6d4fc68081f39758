// FuseNeuronUpdate.h — pass `fuse-neuron-update`: one branch-free kernel per population.
//
// A neuron's step is described in pieces — the state update, the threshold, the reset,
// the refractory rule — but running them as separate loops would sweep the state arrays
// four times per step. The pass merges them into a single straight-line `kernel` block
// evaluated once per neuron per step, with the refractory clamp, the threshold test and
// the reset expressed as selects rather than branches so the loop over neurons
// vectorizes. Hidden state is added where needed: `_refrac` (remaining refractory steps,
// or a flag for a conditional refractory rule) and `_lastspike`.
#pragma once
#include "Diagnostics.h"
#include "IR.h"

namespace snnc::ir {

bool fuse_neuron_update(Module &module, DiagnosticEngine &diags);

}  // namespace snnc::ir
