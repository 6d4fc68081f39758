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
  uint64_t next() {  // inline: encoders and dropout draw millions per batch
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  /// Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  /// Standard normal (Marsaglia polar method; the spare value is kept).
  double normal();
  /// Number of failures before the first success of a Bernoulli(p) sequence, p in (0, 1].
  int64_t geometric(double p);
  /// Next index of a Bernoulli(p) sequence after `after` that succeeds (p in (0, 1]),
  /// or `end` when none does before `end`: iterate from -1 to visit a random subset.
  int64_t next_success(int64_t after, double p, int64_t end) {
    int64_t gap = geometric(p);
    return gap >= end - after - 1 ? end : after + 1 + gap;
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
  double spare_ = 0;
  bool has_spare_ = false;
};

}  // namespace snnc::rt
