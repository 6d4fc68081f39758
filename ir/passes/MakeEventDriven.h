// MakeEventDriven.h — pass `make-event-driven`: connections become per-spike propagation.
//
// A simulated network's connectivity is sparse (CUBA: 2 %) and its spikes are rare, so
// instead of multiplying a dense weight matrix by a mostly-zero spike vector every step,
// each connection is stored compressed (CSR: one row of postsynaptic indices, and weights
// when they vary, per presynaptic neuron) and only the rows of neurons that spiked are
// walked. The pass checks the connection parameters are static (p a constant in [0, 1],
// weights free of neuron state) and marks the connection `propagate ... csr`.
#pragma once
#include "Diagnostics.h"
#include "IR.h"

namespace snnc::ir {

bool make_event_driven(Module &module, DiagnosticEngine &diags);

}  // namespace snnc::ir
