// Connectivity.cpp — all-to-all, one-to-one and Bernoulli-random CSR construction.
#include "Connectivity.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace snnc::rt {

Csr build_connectivity(const ConnectivitySpec &s, Rng &rng) {
  auto fail = [&](const std::string &why) {
    throw std::runtime_error("connection '" + s.name + "': " + why);
  };
  if (s.n_pre <= 0 || s.n_post <= 0) fail("empty group");
  if (s.n_post > std::numeric_limits<int32_t>::max()) fail("postsynaptic group too large");
  Csr csr;
  csr.row_ptr.assign(s.n_pre + 1, 0);
  bool skip_self = !s.autapses;  // i -> i: the same neuron, or the same index in another group
  auto draw_weight = [&] {
    switch (s.weight) {
      case WeightKind::Uniform:
        csr.weight.push_back(s.w_a + (s.w_b - s.w_a) * rng.uniform());
        break;
      case WeightKind::Normal:
        csr.weight.push_back(s.w_a + s.w_b * rng.normal());
        break;
      case WeightKind::Constant:
        break;
    }
  };
  switch (s.kind) {
    case ConnKind::OneToOne:
      if (s.n_pre != s.n_post) fail("one_to_one needs groups of equal size");
      for (int64_t i = 0; i < s.n_pre; ++i) {
        csr.col.push_back(static_cast<int32_t>(i));
        draw_weight();
        csr.row_ptr[i + 1] = i + 1;
      }
      break;
    case ConnKind::AllToAll:
      if (static_cast<double>(s.n_pre) * s.n_post > 2e9)
        fail("all_to_all would create more than 2e9 synapses");
      for (int64_t i = 0; i < s.n_pre; ++i) {
        for (int64_t j = 0; j < s.n_post; ++j) {
          if (skip_self && i == j) continue;
          csr.col.push_back(static_cast<int32_t>(j));
          draw_weight();
        }
        csr.row_ptr[i + 1] = static_cast<int64_t>(csr.col.size());
      }
      break;
    case ConnKind::Random: {
      if (!(s.p >= 0 && s.p <= 1)) fail("probability must be in [0, 1]");
      if (s.p * s.n_pre * s.n_post > 2e9) fail("would create more than 2e9 synapses");
      csr.col.reserve(static_cast<size_t>(s.p * s.n_pre * s.n_post * 1.05 + 16));
      for (int64_t i = 0; i < s.n_pre; ++i) {
        if (s.p > 0) {
          for (int64_t j = rng.next_success(-1, s.p, s.n_post); j < s.n_post;
               j = rng.next_success(j, s.p, s.n_post)) {
            if (skip_self && i == j) continue;
            csr.col.push_back(static_cast<int32_t>(j));
            draw_weight();
          }
        }
        csr.row_ptr[i + 1] = static_cast<int64_t>(csr.col.size());
      }
      break;
    }
  }
  return csr;
}

}  // namespace snnc::rt

namespace snnc::rt {

Incoming incoming_synapses(const Csr &csr, int64_t n_post) {
  Incoming in;
  const int64_t nnz = static_cast<int64_t>(csr.col.size());
  in.col_ptr.assign(n_post + 1, 0);
  for (int32_t j : csr.col) ++in.col_ptr[j + 1];
  for (int64_t j = 0; j < n_post; ++j) in.col_ptr[j + 1] += in.col_ptr[j];
  in.synapse.resize(nnz);
  in.pre_of.resize(nnz);
  std::vector<int64_t> fill(in.col_ptr.begin(), in.col_ptr.end() - 1);
  const int64_t n_pre = static_cast<int64_t>(csr.row_ptr.size()) - 1;
  for (int64_t i = 0; i < n_pre; ++i)
    for (int64_t s = csr.row_ptr[i]; s < csr.row_ptr[i + 1]; ++s) {
      in.synapse[fill[csr.col[s]]++] = static_cast<int32_t>(s);
      in.pre_of[s] = static_cast<int32_t>(i);
    }
  return in;
}

std::vector<int32_t> draw_delays(const ConnectivitySpec &spec, int64_t synapses, double dt,
                                 Rng &rng) {
  std::vector<int32_t> d(synapses);
  for (auto &x : d) {
    double seconds = spec.delay_lo + (spec.delay_hi - spec.delay_lo) * rng.uniform();
    x = static_cast<int32_t>(std::max<long long>(1, std::llround(seconds / dt)));
  }
  return d;
}

}  // namespace snnc::rt
