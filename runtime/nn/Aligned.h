// Aligned.h — vectors whose data start on a 64-byte boundary, so that the AVX-512 kernels'
// row loads and stores (whole multiples of 16 floats) each stay within one cache line: a
// plain std::vector's data is only 16-byte aligned, and a 64-byte vector access that
// straddles two lines costs about twice as much on the machines measured
// (docs/performance.md). The alignment belongs to the storage, so copies keep it.
#pragma once
#include <cstddef>
#include <new>
#include <vector>

namespace snnc::rt::nn {

template <typename T>
struct Aligned64Allocator {
  using value_type = T;
  Aligned64Allocator() = default;
  template <typename U>
  Aligned64Allocator(const Aligned64Allocator<U> &) {}
  T *allocate(std::size_t n) {
    return static_cast<T *>(::operator new (n * sizeof(T), std::align_val_t{64}));
  }
  void deallocate(T *p, std::size_t) { ::operator delete (p, std::align_val_t{64}); }
  template <typename U>
  bool operator==(const Aligned64Allocator<U> &) const {
    return true;
  }
};

/// Floats from a 64-byte boundary.
using AlignedFloats = std::vector<float, Aligned64Allocator<float>>;

}  // namespace snnc::rt::nn
