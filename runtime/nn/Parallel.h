// Parallel.h — the one thread pool of the training/inference runtime.
//
// Every hot loop of runtime/nn (GEMM row blocks, convolutions, pooling, cell scans,
// event-driven propagation) splits its iteration space with parallel_for. OpenBLAS is
// switched to one thread when the pool starts, so the pool alone decides how the cores are
// used and no BLAS worker spins beside it. Work is split into contiguous ranges whose
// results do not depend on where the split falls; reductions use fixed-size chunks
// (reduce_chunks) so sums are the same for any number of threads.
#pragma once
#include <cstdint>
#include <functional>

namespace snnc::rt::nn {

/// Threads used by parallel_for: SNNC_THREADS if set, else the hardware's core count.
int thread_count();

/// Runs body(begin, end) over a partition of [0, n) into at most thread_count() ranges of
/// at least `grain` iterations each; returns when all are done. Nested calls run inline.
void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)> &body);

/// Number of fixed chunks of `chunk` iterations covering [0, n) (for deterministic
/// reductions: each chunk accumulates a partial, partials are summed in chunk order).
inline int64_t chunk_count(int64_t n, int64_t chunk) {
  return (n + chunk - 1) / chunk;
}

}  // namespace snnc::rt::nn
