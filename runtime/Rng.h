// Rng.h — the runtime's seeded random streams (xoshiro256**, seeded by splitmix64).
//
// Every random draw of a run (connectivity, weights, initial values, Poisson spikes)
// comes from a stream derived from (seed, stream id), so a run is reproducible bit for
// bit and adding a connection does not change the draws of another.
#pragma once
#include <cstdint>

namespace snnc::rt {

class Rng {
 public:
  Rng(uint64_t seed, uint64_t stream);
  uint64_t next();
  /// Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  /// Standard normal (Marsaglia polar method; the spare value is kept).
  double normal();
  /// Number of failures before the first success of a Bernoulli(p) sequence, p in (0, 1].
  int64_t geometric(double p);

 private:
  uint64_t s_[4];
  double spare_ = 0;
  bool has_spare_ = false;
};

}  // namespace snnc::rt
