// ExpectClose.h — for unit tests: two float tensors equal up to float32 rounding of sums
// in another order.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace snnc::test {

/// Each element's error against the largest magnitude of `b`: at most `tolerance` of it
/// (1e-5: ~100 float32 ulps of sums of ~1000 terms).
inline void expect_close(const std::vector<float> &a, const std::vector<float> &b,
                         const std::string &what, double tolerance = 1e-5) {
  ASSERT_EQ(a.size(), b.size()) << what;
  double scale = 0, worst = 0;
  for (float v : b) scale = std::max(scale, std::abs(static_cast<double>(v)));
  for (size_t i = 0; i < a.size(); ++i)
    worst = std::max(worst, std::abs(static_cast<double>(a[i]) - b[i]));
  EXPECT_LE(worst, tolerance * std::max(scale, 1e-6))
      << what << ": largest |difference| " << worst << " at scale " << scale;
}

}  // namespace snnc::test
