// snnc_cuda_shim.h — just enough of CUDA for generated simulation source to compile with a
// host C++ compiler and run its kernels on the CPU, one thread after another, in index
// order. Used by the tests to check the CUDA backend's kernels against the LLVM backend on
// a machine without a GPU. Device memory is host memory here.
#pragma once
#include <cstdint>
#include <cstdlib>
#include <cstring>

#define __global__
#define __device__
#define __restrict__ __restrict

struct snnc_dim3 {
  unsigned x = 0, y = 0, z = 0;
};
inline thread_local snnc_dim3 blockIdx, threadIdx, blockDim;

inline unsigned long long atomicAdd(unsigned long long *p, unsigned long long v) {
  unsigned long long old = *p;
  *p += v;
  return old;
}
inline float atomicAdd(float *p, float v) {
  float old = *p;
  *p += v;
  return old;
}
inline double atomicAdd(double *p, double v) {
  double old = *p;
  *p += v;
  return old;
}

typedef int cudaError_t;
enum { cudaSuccess = 0 };
enum cudaMemcpyKind { cudaMemcpyHostToDevice, cudaMemcpyDeviceToHost, cudaMemcpyDeviceToDevice };
inline cudaError_t cudaMemcpy(void *dst, const void *src, size_t n, cudaMemcpyKind) {
  std::memcpy(dst, src, n);
  return cudaSuccess;
}
inline cudaError_t cudaMemset(void *p, int v, size_t n) {
  std::memset(p, v, n);
  return cudaSuccess;
}
inline cudaError_t cudaGetDeviceCount(int *n) {  // the CPU stands in for one GPU
  *n = 1;
  return cudaSuccess;
}
inline cudaError_t cudaMalloc(void **p, size_t n) {
  *p = std::malloc(n);
  return *p ? cudaSuccess : 2;  // cudaErrorMemoryAllocation
}
inline cudaError_t cudaFree(void *p) {
  std::free(p);
  return cudaSuccess;
}
inline const char *cudaGetErrorString(cudaError_t err) {
  return err == cudaSuccess ? "no error" : "error (CUDA host shim)";
}
inline cudaError_t cudaGetLastError() {
  return cudaSuccess;
}
inline cudaError_t cudaDeviceSynchronize() {
  return cudaSuccess;
}

/// Runs every thread of the grid in order.
#define SNNC_LAUNCH(kernel, blocks, threads, ...)                        \
  do {                                                                   \
    blockDim.x = static_cast<unsigned>(threads);                         \
    for (unsigned b_ = 0; b_ < static_cast<unsigned>(blocks); ++b_)      \
      for (unsigned t_ = 0; t_ < static_cast<unsigned>(threads); ++t_) { \
        blockIdx.x = b_;                                                 \
        threadIdx.x = t_;                                                \
        kernel(__VA_ARGS__);                                             \
      }                                                                  \
  } while (0)
