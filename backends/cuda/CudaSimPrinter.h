// CudaSimPrinter.h — the CUDA backend for simulations: prints readable CUDA C++ source
// (one kernel per population's fused neuron update, one per connection's event-driven
// propagation, and a host launcher that runs the time loop and reports spikes through the
// runtime's C ABI) from the same lowered IR and SimLayout the LLVM backend uses.
#pragma once
#include <string>

#include "IR.h"
#include "SimLayout.h"

namespace snnc::backends {

/// Throws std::runtime_error for what the CUDA backend does not support yet.
std::string print_cuda_simulation(const ir::Module &module, const SimLayout &layout,
                                  const std::string &source_name);

}  // namespace snnc::backends
