// Rng.cpp — xoshiro256** with splitmix64 seeding; normal and geometric draws.
#include "Rng.h"

#include <cmath>
#include <limits>

namespace snnc::rt {

static uint64_t splitmix64(uint64_t &x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}


Rng::Rng(uint64_t seed, uint64_t stream) {
  uint64_t x = seed ^ (stream * 0xD1B54A32D192ED03ull);
  splitmix64(x);
  for (auto &s : s_) s = splitmix64(x);
}

double Rng::normal() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  double u, v, s;
  do {
    u = 2 * uniform() - 1;
    v = 2 * uniform() - 1;
    s = u * u + v * v;
  } while (s >= 1 || s == 0);
  double f = std::sqrt(-2 * std::log(s) / s);
  spare_ = v * f;
  has_spare_ = true;
  return u * f;
}

int64_t Rng::geometric(double p) {
  if (p >= 1) return 0;
  if (!(p > 0)) return std::numeric_limits<int64_t>::max();  // never succeeds (0 or NaN)
  double u = 1 - uniform();                                  // (0, 1]
  double g = std::floor(std::log(u) / std::log1p(-p));
  return g > 9e18 ? std::numeric_limits<int64_t>::max() : static_cast<int64_t>(g);
}

}  // namespace snnc::rt
