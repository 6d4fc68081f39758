// Runtime units: propagators, random streams, connectivity, the simulation driver with its
// C callbacks (driven by a small hand-written module), atomic writes and output files.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

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

TEST(Propagator, RotationMatchesClosedForm) {
  // x' = w y, y' = -w x: exp(A h) is a rotation; its integral has sin/w and (1-cos)/w.
  double w = 300, h = 0.01, m[4] = {0, w, -w, 0}, out[8];
  snnc_rt_propagator(2, m, h, out);
  double c = std::cos(w * h), s = std::sin(w * h);
  double expected[8] = {c, s, s / w, (1 - c) / w, -s, c, -(1 - c) / w, s / w};
  for (int i = 0; i < 8; ++i)
    EXPECT_NEAR(out[i], expected[i], 1e-14 * (1 + std::fabs(expected[i])));
}

TEST(Propagator, TenStageChainMatchesClosedForm) {
  // x_k' = a (x_{k-1} - x_k): exp(A h)[i][j] = e^{-ah} (ah)^(i-j) / (i-j)!, and the integral
  // is e^{-ah} sum_{k > i-j} (ah)^k / k! / a (the tail, summed without cancellation).
  const int n = 10;
  double a = 100, h = 0.02, m[n * n] = {}, out[n * 2 * n];
  for (int i = 0; i < n; ++i) {
    m[i * n + i] = -a;
    if (i > 0) m[i * n + i - 1] = a;
  }
  snnc_rt_propagator(n, m, h, out);
  double x = a * h;
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      double e = 0, tail = 0, term = 1;
      for (int k = 0; k < 80; ++k) {
        if (k > 0) term *= x / k;
        if (k == i - j) e = std::exp(-x) * term;
        if (k > i - j) tail += term;
      }
      double integral = i >= j ? std::exp(-x) * tail / a : 0;
      EXPECT_NEAR(out[i * 2 * n + j], e, 1e-14 * (std::fabs(e) + 1e-3)) << i << "," << j;
      EXPECT_NEAR(out[i * 2 * n + n + j], integral, 1e-14 * (std::fabs(integral) + 1e-5))
          << i << "," << j;
    }
}

TEST(Propagator, NonFiniteInputGivesNonFiniteOutput) {
  double a = -INFINITY, out[2];
  snnc_rt_propagator(1, &a, 1e-4, out);
  EXPECT_FALSE(std::isfinite(out[0]));
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

TEST(Rng, GeometricSkipsHaveTheRightMeanAndNeverOverflow) {
  Rng r(11, 3);
  double p = 0.01, sum = 0;
  const int n = 100000;
  for (int i = 0; i < n; ++i) sum += static_cast<double>(r.geometric(p));
  double mean = (1 - p) / p, sd = std::sqrt(1 - p) / p;
  EXPECT_NEAR(sum / n, mean, 5 * sd / std::sqrt(n));
  const int64_t end = std::numeric_limits<int64_t>::max() - 1;
  for (int i = 0; i < 100; ++i) {
    int64_t j = r.next_success(end - 2, 1e-300, end);
    EXPECT_EQ(j, end);
  }
  EXPECT_EQ(r.next_success(-1, 0.0, 10), 10);
  EXPECT_EQ(r.next_success(4, 1.0, 10), 5);
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

TEST(Connectivity, LargeSparseRandomIsFastAndHasNoAutapses) {
  ConnectivitySpec s;
  s.name = "EE";
  s.n_pre = s.n_post = 40000;
  s.p = 0.002;
  s.same_group = true;
  s.autapses = false;
  s.weight = WeightKind::Normal;
  s.w_a = 0.5;
  s.w_b = 0.1;
  Rng r(9, 1);
  auto t0 = std::chrono::steady_clock::now();
  Csr c = build_connectivity(s, r);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(seconds, 5.0);  // milliseconds when optimised; generous for sanitiser builds
  double pairs = 40000.0 * 39999.0, mean = pairs * 0.002, sigma = std::sqrt(mean * 0.998);
  EXPECT_NEAR(static_cast<double>(c.col.size()), mean, 5 * sigma);
  ASSERT_EQ(c.weight.size(), c.col.size());
  double sum = 0, sum2 = 0;
  for (double w : c.weight) sum += w, sum2 += w * w;
  double n = static_cast<double>(c.weight.size()), m = sum / n;
  EXPECT_NEAR(m, 0.5, 5 * 0.1 / std::sqrt(n));
  EXPECT_NEAR(std::sqrt(sum2 / n - m * m), 0.1, 0.002);
  for (int64_t i = 0; i < s.n_pre; ++i)
    for (int64_t k = c.row_ptr[i]; k < c.row_ptr[i + 1]; ++k) {
      ASSERT_NE(c.col[k], i);
      if (k > c.row_ptr[i]) {
        ASSERT_LT(c.col[k - 1], c.col[k]);
      }
    }
}

TEST(Connectivity, ProbabilityZeroAndOne) {
  ConnectivitySpec s;
  s.name = "c";
  s.n_pre = 30;
  s.n_post = 20;
  s.p = 0;
  Rng r(1, 1);
  EXPECT_TRUE(build_connectivity(s, r).col.empty());
  s.p = 1;
  Csr full = build_connectivity(s, r);
  ASSERT_EQ(full.col.size(), 600u);
  for (int64_t i = 0; i < 30; ++i)
    for (int j = 0; j < 20; ++j) EXPECT_EQ(full.col[i * 20 + j], j);
  s.p = NAN;
  try {
    build_connectivity(s, r);
    FAIL() << "NaN probability accepted";
  } catch (const std::runtime_error &e) {
    EXPECT_NE(std::string(e.what()).find("'c'"), std::string::npos) << e.what();
  }
}

// A hand-written simulation module: a Poisson source 'src' drives population 'P' through
// the random connection 'in' (normal weights); P's v decays with the exact propagator,
// P fires above 1 and its v is traced for neurons 0 and 5.
namespace fake_module {
enum Slot { kRowPtr, kCol, kWeight, kSrcIdx, kV, kPIdx };
constexpr int64_t kPop = 100, kSrc = 1000;
constexpr double kRate = 20, kDt = 1e-3;  // Hz, s
int64_t expected_events = 0;

void setup(const double *params, double *derived, snnc_rt_ctx *) {
  double a = -1 / params[1], out[2];
  snnc_rt_propagator(1, &a, kDt, out);
  derived[0] = out[0];
}
void init(const double *, const double *, void **buffers, snnc_rt_ctx *rt) {
  auto *v = static_cast<double *>(buffers[kV]);
  for (int64_t i = 0; i < kPop; ++i) v[i] = 0.1 * snnc_rt_uniform(rt);
}
void run(const double *params, const double *derived, void **buffers, snnc_rt_ctx *rt,
         int64_t first, int64_t count) {
  auto *row_ptr = static_cast<int64_t *>(buffers[kRowPtr]);
  auto *col = static_cast<int32_t *>(buffers[kCol]);
  auto *w = static_cast<double *>(buffers[kWeight]);
  auto *src = static_cast<int32_t *>(buffers[kSrcIdx]);
  auto *v = static_cast<double *>(buffers[kV]);
  auto *fired = static_cast<int32_t *>(buffers[kPIdx]);
  for (int64_t step = first; step < first + count; ++step) {
    int64_t n = snnc_rt_poisson(rt, 0, params[0] * kDt, src);
    snnc_rt_spikes(rt, 1, step, src, n);
    for (int64_t k = 0; k < n; ++k) {
      expected_events += row_ptr[src[k] + 1] - row_ptr[src[k]];
      for (int64_t s = row_ptr[src[k]]; s < row_ptr[src[k] + 1]; ++s) v[col[s]] += w[s];
    }
    int64_t spikes = 0;
    for (int64_t i = 0; i < kPop; ++i) {
      v[i] *= derived[0];
      if (v[i] > 1) v[i] = 0, fired[spikes++] = static_cast<int32_t>(i);
    }
    snnc_rt_spikes(rt, 0, step, fired, spikes);
    snnc_rt_trace(rt, 0, step, v);
  }
}

SimSpec spec(int64_t steps, uint64_t seed) {
  SimSpec s;
  s.buffers = {{"in.row_ptr", ElemType::I64, kSrc + 1},
               {"in.col", ElemType::I32, 0},
               {"in.weight", ElemType::F64, 0},
               {"src.spike_index", ElemType::I32, kSrc},
               {"P.v", ElemType::F64, kPop},
               {"P.spike_index", ElemType::I32, kPop}};
  ConnectivitySpec c;
  c.name = "in";
  c.n_pre = kSrc;
  c.n_post = kPop;
  c.p = 0.05;
  c.weight = WeightKind::Normal;
  c.w_a = 0.2;
  c.w_b = 0.05;
  c.row_ptr_buffer = kRowPtr;
  c.col_buffer = kCol;
  c.weight_buffer = kWeight;
  c.pre_group = 1;
  s.connections = {c};
  s.groups = {{"P", kPop, true, 10, 50}, {"src", kSrc, false}};
  s.poisson_groups = {1};
  s.traces = {{"P", "v", {0, 5}}};
  s.derived_count = 1;
  s.dt = kDt;
  s.steps = steps;
  s.seed = seed;
  return s;
}
}  // namespace fake_module

TEST(Simulation, DrivesTheModuleAndCollectsEverything) {
  namespace fm = fake_module;
  SimSpec spec = fm::spec(2500, 7);
  std::vector<double> params = {fm::kRate, 0.02};
  SimFunctions fns{fm::setup, fm::init, fm::run};
  std::vector<std::pair<int64_t, int64_t>> progress;
  fm::expected_events = 0;
  SimResult r = simulate(spec, params, fns, [&](int64_t d, int64_t t) {
    progress.push_back({d, t});
  });

  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(progress.back().first, 2500);
  EXPECT_EQ(progress.back().second, 2500);
  for (size_t i = 1; i < progress.size(); ++i) EXPECT_GT(progress[i].first, progress[i - 1].first);
  // Poisson counts: binomial(1000 * 2500, 20 Hz * 1 ms)
  double trials = 1000.0 * 2500, p = fm::kRate * fm::kDt;
  EXPECT_NEAR(static_cast<double>(r.spike_counts[1]), trials * p,
              5 * std::sqrt(trials * p * (1 - p)));
  EXPECT_GT(r.spike_counts[0], 0);
  EXPECT_TRUE(r.spikes[1].steps.empty());  // not recorded
  const RecordedSpikes &rec = r.spikes[0];
  ASSERT_EQ(rec.steps.size(), rec.neurons.size());
  EXPECT_GT(rec.steps.size(), 0u);
  EXPECT_LT(rec.steps.size(), static_cast<size_t>(r.spike_counts[0]));  // range [10, 50) only
  for (size_t k = 0; k < rec.steps.size(); ++k) {
    EXPECT_GE(rec.neurons[k], 10);
    EXPECT_LT(rec.neurons[k], 50);
    if (k) {
      EXPECT_LE(rec.steps[k - 1], rec.steps[k]);
    }
  }
  EXPECT_NEAR(static_cast<double>(r.synapses), 1000 * 100 * 0.05, 5 * std::sqrt(5000 * 0.95));
  EXPECT_EQ(r.synaptic_events, fm::expected_events);
  ASSERT_EQ(r.traces.size(), 1u);
  EXPECT_EQ(r.traces[0].size(), 2500u * 2);
  EXPECT_GE(r.build_seconds, 0);
  EXPECT_GT(r.run_seconds, 0);

  SimResult again = simulate(spec, params, fns);
  EXPECT_EQ(again.spikes[0].neurons, rec.neurons);
  EXPECT_EQ(again.spikes[0].steps, rec.steps);
  EXPECT_EQ(again.traces, r.traces);
  SimResult other = simulate(fm::spec(2500, 8), params, fns);
  EXPECT_NE(other.traces, r.traces);
}

TEST(Simulation, RejectsBadSpecsWithClearMessages) {
  namespace fm = fake_module;
  SimFunctions fns{fm::setup, fm::init, fm::run};
  std::vector<double> params = {fm::kRate, 0.02};
  SimSpec bad_slot = fm::spec(10, 1);
  bad_slot.connections[0].col_buffer = fm::kV;  // an F64 buffer
  EXPECT_THROW(simulate(bad_slot, params, fns), std::runtime_error);
  SimSpec bad_trace = fm::spec(10, 1);
  bad_trace.traces[0].neurons = {100};
  EXPECT_THROW(simulate(bad_trace, params, fns), std::runtime_error);
  SimSpec bad_p = fm::spec(10, 1);
  bad_p.connections[0].p = -0.5;
  try {
    simulate(bad_p, params, fns);
    FAIL() << "negative probability accepted";
  } catch (const std::runtime_error &e) {
    EXPECT_NE(std::string(e.what()).find("'in'"), std::string::npos) << e.what();
  }
  std::vector<double> zero_tau = {fm::kRate, 0.0};  // -1/0: the propagator is not finite
  EXPECT_THROW(simulate(fm::spec(10, 1), zero_tau, fns), std::runtime_error);
}

std::vector<std::string> read_lines(const std::filesystem::path &path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(Outputs, FilesHaveTheDocumentedLayout) {
  SimSpec spec;
  spec.groups = {{"E", 4, true}, {"I", 2, true}, {"noise", 10, false}};
  spec.traces = {{"E", "v", {0, 3}}, {"I", "g_e", {1}}};
  spec.dt = 1e-4;
  spec.steps = 3;
  SimResult r;
  r.spike_counts = {2, 1, 7};
  r.spikes = {{{1, 2}, {3, 0}}, {{2}, {1}}, {}};
  r.traces = {{0.5, -0.25, 0.5, -0.25, 1, 2}, {1e-9, 2e-9, 3e-9}};
  auto dir = std::filesystem::temp_directory_path() / "snnc_rt_outputs_test";
  std::filesystem::remove_all(dir);
  write_sim_outputs(spec, r, (dir / "out").string());

  auto spikes = read_lines(dir / "out" / "spikes.csv");
  std::vector<std::string> expected_spikes = {"group,neuron,time_s", "E,3,0.0001", "E,0,0.0002",
                                              "I,1,0.0002"};
  EXPECT_EQ(spikes, expected_spikes);
  auto traces = read_lines(dir / "out" / "traces.csv");
  std::vector<std::string> expected_traces = {"time_s,E.v[0],E.v[3],I.g_e[1]", "0,0.5,-0.25,1e-09",
                                              "0.0001,0.5,-0.25,2e-09", "0.0002,1,2,3e-09"};
  EXPECT_EQ(traces, expected_traces);
  auto svg = read_lines(dir / "out" / "raster.svg");
  ASSERT_FALSE(svg.empty());
  EXPECT_EQ(svg[0].rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u);
  EXPECT_EQ(svg.back(), "</svg>");
  std::string all;
  for (const auto &l : svg) all += l + "\n";
  EXPECT_NE(all.find("time (ms)"), std::string::npos);
  EXPECT_NE(all.find(">E<"), std::string::npos);
  EXPECT_NE(all.find(">I<"), std::string::npos);
  EXPECT_EQ(all.find(">noise<"), std::string::npos);  // not recorded
  int files = 0;
  for (auto &e : std::filesystem::directory_iterator(dir / "out")) files += e.is_regular_file();
  EXPECT_EQ(files, 3);

  spec.traces.clear();
  r.traces.clear();
  write_sim_outputs(spec, r, (dir / "no_traces").string());
  EXPECT_TRUE(std::filesystem::exists(dir / "no_traces" / "spikes.csv"));
  EXPECT_FALSE(std::filesystem::exists(dir / "no_traces" / "traces.csv"));
  std::filesystem::remove_all(dir);
}

TEST(Outputs, RasterCapsTheDrawnSpikes) {
  SimSpec spec;
  spec.groups = {{"E", 1000, true}};
  spec.dt = 1e-4;
  spec.steps = 1000;
  SimResult r;
  r.spikes.resize(1);
  for (int64_t s = 0; s < 1000; ++s)
    for (int32_t n = 0; n < 1000; n += 2)
      r.spikes[0].steps.push_back(s), r.spikes[0].neurons.push_back(n);
  r.spike_counts = {static_cast<int64_t>(r.spikes[0].steps.size())};
  auto dir = std::filesystem::temp_directory_path() / "snnc_rt_raster_test";
  std::filesystem::remove_all(dir);
  write_sim_outputs(spec, r, dir.string());
  std::string all;
  for (const auto &l : read_lines(dir / "raster.svg")) all += l + "\n";
  size_t dots = 0;
  for (size_t at = all.find("width=\"1.2\""); at != std::string::npos;
       at = all.find("width=\"1.2\"", at + 1))
    ++dots;
  EXPECT_LE(dots, 200000u);
  EXPECT_GT(dots, 100000u);
  EXPECT_NE(all.find("drawn"), std::string::npos);
  std::filesystem::remove_all(dir);
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
