// PlanSynapses.h — pass `plan-synapses`: how each linear/conv layer propagates its input.
//
// A synaptic op on a spike tensor can skip the zeros: each active input adds its weights
// (its kernel taps) to the outputs it reaches. That beats a dense GEMM below some input
// density, which depends on the layer's shape: a wide layer (many outputs per input) gains
// the most, a narrow readout (10 outputs) never does, because finding the events costs a
// pass over the input. The pass computes that crossover density from a cost model whose
// rates were measured on the reference machine (docs/performance.md); at run time the
// executor measures each pass's input density and propagates events below the threshold.
// `synapse = dense | event` on a layer in the source forces the choice.
#pragma once
#include "Model.h"

namespace snnc::ir {

/// Density below which event-driven propagation is expected to beat the dense product.
double event_threshold(const Model &model, const Layer &layer);

/// Sets event_threshold on every linear/conv layer.
void plan_synapses(Model &model);

/// The sparsity from which a sparse linear layer is computed compressed (measured crossover).
double compressed_sparsity();

const char *synapse_name(Layer::Synapse s);
/// The mode named auto, dense or event into *mode; false for any other name.
bool synapse_from_name(const std::string &name, Layer::Synapse *mode);

}  // namespace snnc::ir
