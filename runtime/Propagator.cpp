// Propagator.cpp — exact propagators of linear ODE systems via the matrix exponential
// (scaling and squaring with a degree-18 Taylor series, ample for n <= ~20 in double).
#include <cmath>
#include <vector>

#include "snnc_rt.h"

namespace {

using Matrix = std::vector<double>;  // row-major m x m

Matrix multiply(const Matrix &a, const Matrix &b, int m) {
  Matrix c(m * m, 0.0);
  for (int i = 0; i < m; ++i)
    for (int k = 0; k < m; ++k) {
      double aik = a[i * m + k];
      if (aik == 0) continue;
      for (int j = 0; j < m; ++j) c[i * m + j] += aik * b[k * m + j];
    }
  return c;
}

Matrix expm(Matrix a, int m) {
  double norm = 0;  // infinity norm
  for (int i = 0; i < m; ++i) {
    double row = 0;
    for (int j = 0; j < m; ++j) row += std::fabs(a[i * m + j]);
    norm = std::fmax(norm, row);
  }
  if (!std::isfinite(norm)) return Matrix(m * m, std::nan(""));  // caller checks finiteness
  int squarings = norm > 0.5 ? static_cast<int>(std::ceil(std::log2(norm / 0.5))) : 0;
  double scale = std::ldexp(1.0, -squarings);
  for (double &x : a) x *= scale;
  Matrix result(m * m, 0.0), term(m * m, 0.0);
  for (int i = 0; i < m; ++i) result[i * m + i] = term[i * m + i] = 1.0;
  for (int k = 1; k <= 18; ++k) {
    term = multiply(term, a, m);
    for (double &x : term) x /= k;
    for (int i = 0; i < m * m; ++i) result[i] += term[i];
  }
  for (int s = 0; s < squarings; ++s) result = multiply(result, result, m);
  return result;
}

}  // namespace

extern "C" void snnc_rt_propagator(int32_t n, const double *a, double h, double *out) {
  int m = 2 * n;
  Matrix aug(m * m, 0.0);  // [[A h, I h], [0, 0]]
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) aug[i * m + j] = a[i * n + j] * h;
    aug[i * m + n + i] = h;
  }
  Matrix e = expm(aug, m);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < m; ++j) out[i * m + j] = e[i * m + j];
}
