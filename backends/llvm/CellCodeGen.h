// CellCodeGen.h — LLVM scan kernels for the cells of a trainable model.
//
// For each cell `c` of a differentiated model two functions are emitted (float32):
//   void cell_fwd.c(const float *I, float *out, float *post, int64_t T, int64_t N, int64_t ld,
//                   int64_t out_stride, int64_t post_stride)
//   void cell_bwd.c(const float *I, const float *out, const float *post, const float *g_out,
//                   const float *g_post, float *g_I, float *carry, int64_t T, int64_t N, int64_t
//                   ld)
// Arrays are time-major with row length ld: I, out, g_out, g_I are [T][ld]; post (the state
// after each step, what backward needs) is [T][S][ld], and so is g_post, the gradient of the
// loss w.r.t. the state itself (membrane losses; may be null: none); carry is [S][ld],
// zeroed by the caller. The forward scan writes out and post with the given distance
// between steps (ld and S*ld for the full record; 0 keeps only the latest step, in place:
// a scan whose outputs or states nobody reads later needs one step of memory, not T).
// A call handles elements [0, N) of the rows, so callers split the elements of a
// layer between threads by offsetting the pointers. The time loop
// is outside and the loop over the N = batch x features elements inside, branch-free, so it
// vectorizes; the whole recurrence of a layer is one call.
//
// For training over time segments (gradient checkpointing, runtime/nn/Network) stateful
// cells also get cell_fwd_from.c and cell_bwd_from.c: the same arguments plus
// `const float *prev` ([S][ld] states, then [ld] spikes: the step before the segment),
// which the first step reads instead of the initial values and no spikes.
#pragma once
#include "Model.h"

namespace llvm {
class Module;
}

namespace snnc::backends {

/// segment_kernels: also the _from kernels (JIT training; not needed in inference objects).
void generate_cell_kernels(const ir::Model &model, llvm::Module &module,
                           bool segment_kernels = true);

/// Whether a differentiated cell's backward step reads `name` ("I": the input current,
/// "spiked": the previous step's spikes); the backward kernel loads only what it reads.
bool backward_reads(const ir::Cell &c, const std::string &name);

}  // namespace snnc::backends
