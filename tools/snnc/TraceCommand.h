// TraceCommand.h — `snnc trace`: runs one input through an experiment's trained model and
// shows what happened at every step (spikes and membranes per layer, loss, gradients), to
// debug a model or to compare snnc with another simulator.
#pragma once
#include <string>

#include "AST.h"
#include "Diagnostics.h"

namespace snnc::driver {

struct TraceOptions {
  std::string file, experiment;
  std::string weights;   ///< a safetensors checkpoint (snnc's or PyTorch's names)
  std::string input;     ///< an IDX image file (raw or .gz)
  int64_t index = 0;     ///< which image
  int64_t label = -1;    ///< class for the loss and gradients (-1: none)
  int64_t steps = 0;     ///< 0 = the experiment's
  std::string out;       ///< JSON with every tensor ("" = only the printed table)
  bool compare = false;  ///< trace the `compare` twin instead
};

int run_trace(const TraceOptions &options, const ast::File &file, DiagnosticEngine &diags);

}  // namespace snnc::driver
