// Runtime units: propagators, random streams, connectivity, atomic writes.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "Connectivity.h"
#include "Rng.h"
#include "Simulation.h"
#include "snnc_rt.h"

using namespace snnc::rt;

TEST(Propagator, ScalarDecayMatchesClosedForm) {
  double tau = 0.02, h = 1e-4, a = -1 / tau, out[2];
  snnc_rt_propagator(1, &a, h, out);
  EXPECT_NEAR(out[0], std::exp(-h / tau), 1e-15);
  EXPECT_NEAR(out[1], tau * (1 - std::exp(-h / tau)), 1e-18);
}

TEST(Propagator, ZeroMatrixIntegratesConstants) {
  double a[4] = {0, 0, 0, 0}, out[8];
  snnc_rt_propagator(2, a, 0.5, out);
  double expected[8] = {1, 0, 0.5, 0, 0, 1, 0, 0.5};
  for (int i = 0; i < 8; ++i) EXPECT_DOUBLE_EQ(out[i], expected[i]);
}

TEST(Propagator, TriangularSystemMatchesClosedForm) {
  // x' = (y - x) / t1, y' = -y / t2: exp(A h)[0][1] = a/(a-b) (e^{-bh} - e^{-ah})
  double t1 = 0.02, t2 = 0.005, h = 0.003;
  double a = 1 / t1, b = 1 / t2;
  double m[4] = {-a, a, 0, -b}, out[8];
  snnc_rt_propagator(2, m, h, out);
  EXPECT_NEAR(out[0], std::exp(-a * h), 1e-15);
  EXPECT_NEAR(out[1], a / (a - b) * (std::exp(-b * h) - std::exp(-a * h)), 1e-15);
  EXPECT_NEAR(out[4], 0, 1e-18);
  EXPECT_NEAR(out[5], std::exp(-b * h), 1e-15);
}

TEST(Propagator, LargeStepsStayAccurate) {
  double a = -1000.0, out[2];  // |A h| = 50: needs scaling and squaring
  snnc_rt_propagator(1, &a, 0.05, out);
  EXPECT_NEAR(out[0], std::exp(-50.0), 1e-25);
  EXPECT_NEAR(out[1], (1 - std::exp(-50.0)) / 1000.0, 1e-15);
}

TEST(Rng, StreamsAreReproducibleAndIndependent) {
  Rng a(42, 1), b(42, 1), c(42, 2), d(43, 1);
  bool differs_c = false, differs_d = false;
  for (int i = 0; i < 100; ++i) {
    uint64_t x = a.next();
    EXPECT_EQ(x, b.next());
    differs_c |= x != c.next();
    differs_d |= x != d.next();
  }
  EXPECT_TRUE(differs_c);
  EXPECT_TRUE(differs_d);
}

TEST(Rng, MomentsOfUniformAndNormal) {
  Rng r(7, 0);
  const int n = 200000;
  double su = 0, sn = 0, sn2 = 0;
  for (int i = 0; i < n; ++i) {
    double u = r.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    su += u;
    double z = r.normal();
    sn += z;
    sn2 += z * z;
  }
  EXPECT_NEAR(su / n, 0.5, 5 * std::sqrt(1.0 / 12 / n));
  EXPECT_NEAR(sn / n, 0.0, 5 / std::sqrt(n));
  EXPECT_NEAR(sn2 / n, 1.0, 5 * std::sqrt(2.0 / n));
}

TEST(Connectivity, RandomHasBinomialCountSortedRowsAndIsDeterministic) {
  ConnectivitySpec s;
  s.name = "c";
  s.n_pre = 1000;
  s.n_post = 1000;
  s.kind = ConnKind::Random;
  s.p = 0.1;
  Rng r1(1, 5), r2(1, 5), r3(2, 5);
  Csr a = build_connectivity(s, r1), b = build_connectivity(s, r2), c = build_connectivity(s, r3);
  double mean = 1e6 * 0.1, sigma = std::sqrt(1e6 * 0.1 * 0.9);
  EXPECT_NEAR(static_cast<double>(a.col.size()), mean, 5 * sigma);
  EXPECT_EQ(a.col, b.col);
  EXPECT_EQ(a.row_ptr, b.row_ptr);
  EXPECT_NE(a.col, c.col);
  ASSERT_EQ(a.row_ptr.size(), 1001u);
  EXPECT_EQ(a.row_ptr.back(), static_cast<int64_t>(a.col.size()));
  for (int64_t i = 0; i < 1000; ++i)
    for (int64_t k = a.row_ptr[i] + 1; k < a.row_ptr[i + 1]; ++k) ASSERT_LT(a.col[k - 1], a.col[k]);
}

TEST(Connectivity, KindsAndWeights) {
  ConnectivitySpec s;
  s.name = "c";
  s.n_pre = s.n_post = 50;
  s.kind = ConnKind::AllToAll;
  s.same_group = true;
  s.autapses = false;
  s.weight = WeightKind::Uniform;
  s.w_a = 1;
  s.w_b = 2;
  Rng r(3, 1);
  Csr all = build_connectivity(s, r);
  EXPECT_EQ(all.col.size(), 50u * 49u);
  ASSERT_EQ(all.weight.size(), all.col.size());
  for (double w : all.weight) {
    EXPECT_GE(w, 1.0);
    EXPECT_LT(w, 2.0);
  }
  for (int64_t i = 0; i < 50; ++i)
    for (int64_t k = all.row_ptr[i]; k < all.row_ptr[i + 1]; ++k) EXPECT_NE(all.col[k], i);
  s.kind = ConnKind::OneToOne;
  s.weight = WeightKind::Constant;
  Csr one = build_connectivity(s, r);
  ASSERT_EQ(one.col.size(), 50u);
  EXPECT_TRUE(one.weight.empty());
  for (int i = 0; i < 50; ++i) EXPECT_EQ(one.col[i], i);
  s.n_post = 10;
  EXPECT_THROW(build_connectivity(s, r), std::runtime_error);
  s.kind = ConnKind::Random;
  s.p = 1.5;
  EXPECT_THROW(build_connectivity(s, r), std::runtime_error);
}

TEST(Outputs, AtomicWriteLeavesNoTemporary) {
  auto dir = std::filesystem::temp_directory_path() / "snnc_rt_test";
  std::filesystem::remove_all(dir);
  std::string path = (dir / "sub" / "f.txt").string();
  write_file_atomic(path, "hello\n");
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "hello");
  int files = 0;
  for (auto &e : std::filesystem::directory_iterator(dir / "sub")) files += e.is_regular_file();
  EXPECT_EQ(files, 1);
  EXPECT_THROW(write_file_atomic((dir / "sub" / "f.txt" / "x").string(), "y"), std::runtime_error);
  std::filesystem::remove_all(dir);
}
