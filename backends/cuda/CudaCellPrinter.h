// CudaCellPrinter.h — the CUDA backend for trainable models: prints each cell's forward and
// backward scan over time as a CUDA kernel (one thread per element, the state in registers
// across the time loop) with a host launcher of the same contract as the LLVM scan kernels
// (backends/llvm/CellCodeGen.h), from the same differentiated IR.
//
// For a cell `c` the source defines
//   __global__ cell_fwd_c / cell_bwd_c                       the kernels
//   extern "C" int snnc_cuda_cell_fwd_c(I, out, post, T, N, ld)
//   extern "C" int snnc_cuda_cell_bwd_c(I, out, post, g_out, g_post, g_I, carry, T, N, ld)
// which launch a grid over the N elements and return a cudaError_t (0: success). Pointers
// are device pointers (host pointers under the test shim, snnc_cuda_shim.h).
#pragma once
#include <string>
#include <vector>

#include "Model.h"

namespace snnc::backends {

/// A model and the prefix of its symbols (cell_fwd_<prefix><cell>, ...), so that a model
/// and its twin, whose cells share layer names, can live in one source.
struct CudaCellModel {
  const ir::Model *model = nullptr;
  std::string prefix;
};

/// The models must have been differentiated (ir::differentiate_cells). Throws
/// std::runtime_error for what the CUDA backend does not support.
std::string print_cuda_cells(const std::vector<CudaCellModel> &models,
                             const std::string &source_name);

}  // namespace snnc::backends
