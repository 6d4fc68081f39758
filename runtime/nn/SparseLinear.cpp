// SparseLinear.cpp — forward and backward over the kept connections of a sparse layer.
#include "SparseLinear.h"

#include <algorithm>
#include <cmath>

#include "Ops.h"
#include "Parallel.h"

namespace snnc::rt::nn {

int64_t prune_smallest(std::vector<float> &w, double fraction) {
  for (float v : w)
    if (!std::isfinite(v)) throw std::runtime_error("non-finite weights cannot be pruned");
  std::vector<int64_t> order(w.size());
  for (size_t k = 0; k < order.size(); ++k) order[k] = static_cast<int64_t>(k);
  const auto cut = static_cast<int64_t>(fraction * static_cast<double>(w.size()));
  std::nth_element(order.begin(), order.begin() + cut, order.end(), [&](int64_t a, int64_t b) {
    const float x = std::abs(w[a]), y = std::abs(w[b]);
    return x < y || (x == y && a < b);
  });
  for (int64_t k = 0; k < cut; ++k) w[order[k]] = 0.f;
  return static_cast<int64_t>(std::count(w.begin(), w.end(), 0.f));
}

SparseConnections sparse_connections(const float *w, int64_t out, int64_t in) {
  SparseConnections c;
  c.in = in;
  c.out = out;
  c.start.assign(in + 1, 0);
  for (int64_t o = 0; o < out; ++o)
    for (int64_t i = 0; i < in; ++i) c.start[i + 1] += w[o * in + i] != 0.f;
  for (int64_t i = 0; i < in; ++i) c.start[i + 1] += c.start[i];
  c.target.resize(c.start[in]);
  c.weight.resize(c.start[in]);
  std::vector<int64_t> fill(c.start.begin(), c.start.end() - 1);
  for (int64_t o = 0; o < out; ++o)  // outputs ascending within each input's list
    for (int64_t i = 0; i < in; ++i)
      if (w[o * in + i] != 0.f) {
        c.target[fill[i]] = static_cast<int32_t>(o);
        c.weight[fill[i]++] = o * in + i;
      }
  c.value.resize(c.target.size());
  return c;
}

void zero_absent(const SparseConnections &c, std::vector<float> &dense) {
  std::vector<float> kept(c.kept());
  for (int64_t j = 0; j < c.kept(); ++j) kept[j] = dense[c.weight[j]];
  std::fill(dense.begin(), dense.end(), 0.f);
  for (int64_t j = 0; j < c.kept(); ++j) dense[c.weight[j]] = kept[j];
}

void gather_weights(SparseConnections &c, const float *w) {
  for (int64_t j = 0; j < c.kept(); ++j) c.value[j] = w[c.weight[j]];
}

void sparse_linear_forward(const SparseConnections &c, const Events &ev, const float *b, float *y) {
  const int64_t out = c.out;
  parallel_for(ev.rows, 16, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      float *yr = y + r * out;
      std::copy(b, b + out, yr);
      for (int64_t e = ev.start[r]; e < ev.start[r + 1]; ++e) {
        const float v = ev.value[e];
        const int32_t i = ev.index[e];
        for (int64_t j = c.start[i]; j < c.start[i + 1]; ++j) yr[c.target[j]] += v * c.value[j];
      }
    }
  });
}

void sparse_linear_backward(const SparseConnections &c, const Events &ev, const float *g_y,
                            float *g_x, float *g_w, float *g_b) {
  const int64_t out = c.out, in = c.in, rows = ev.rows;
  linear_bias_grad(g_y, g_b, rows, out);
  if (g_x)  // each input: its kept connections' weights times the output gradients
    parallel_for(rows, 16, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r)
        for (int64_t i = 0; i < in; ++i) {
          float s = 0.f;
          for (int64_t j = c.start[i]; j < c.start[i + 1]; ++j)
            s += c.value[j] * g_y[r * out + c.target[j]];
          g_x[r * in + i] += s;
        }
    });
  // weights: inputs split between threads, each kept connection summed over rows in order
  parallel_for(in, 16, [&](int64_t i0, int64_t i1) {
    std::vector<float> acc(c.start[i1] - c.start[i0], 0.f);
    for (int64_t r = 0; r < rows; ++r) {
      const int32_t *first = ev.index.data() + ev.start[r],
                    *last = ev.index.data() + ev.start[r + 1];
      for (const int32_t *e = std::lower_bound(first, last, static_cast<int32_t>(i0));
           e != last && *e < i1; ++e) {
        const float v = ev.value[e - ev.index.data()];
        for (int64_t j = c.start[*e]; j < c.start[*e + 1]; ++j)
          acc[j - c.start[i0]] += v * g_y[r * out + c.target[j]];
      }
    }
    for (int64_t j = c.start[i0]; j < c.start[i1]; ++j) g_w[c.weight[j]] += acc[j - c.start[i0]];
  });
}

}  // namespace snnc::rt::nn
