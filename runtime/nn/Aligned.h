// Aligned.h — scratch buffers whose data start on a 64-byte boundary, so that the AVX-512
// kernels' row loads and stores (whole multiples of 16 floats) each stay within one cache
// line: a std::vector's data is only 16-byte aligned, and a 64-byte vector access that
// straddles two lines costs about twice as much on the machines measured (docs/performance.md).
#pragma once
#include <cstdint>
#include <vector>

namespace snnc::rt::nn {

/// The first 64-byte boundary in v's storage (v must hold 16 floats more than it is used for).
inline float *aligned_64(std::vector<float> &v) {
  const auto p = reinterpret_cast<uintptr_t>(v.data());
  return v.data() + ((64 - p % 64) % 64) / sizeof(float);
}

/// Resizes v to hold n floats from a 64-byte boundary and returns that boundary (contents
/// unspecified; storage reused when large enough).
inline float *aligned_buffer(std::vector<float> &v, size_t n) {
  v.resize(n + 16);
  return aligned_64(v);
}

}  // namespace snnc::rt::nn
