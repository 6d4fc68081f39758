// Event-driven synaptic ops against their dense counterparts: linear and conv2d (several
// strides, paddings and channel counts) forward outputs and weight/bias/input gradients on
// sparse binary and sparse real-valued inputs; the per-pass dense/event choice of a network
// and that forcing either path gives the same training step.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <limits>
#include <optional>
#include <thread>
#include <tuple>

#include "CpuFeatures.h"
#include "Events.h"
#include "ExpectClose.h"
#include "LinearPatterns.h"
#include "Loss.h"
#include "LowerModel.h"
#include "ModelCompiler.h"
#include "ModelFromSource.h"
#include "ModelPass.h"
#include "Network.h"
#include "Ops.h"
#include "Parallel.h"
#include "Parser.h"
#include "Rng.h"
#include "Sema.h"
#include "TrainStep.h"
#include "passes/Autodiff.h"
#include "passes/PlanSynapses.h"

using namespace snnc;
using namespace snnc::rt::nn;
using snnc::test::expect_close;

namespace {

std::vector<float> sparse_input(int64_t n, double density, bool binary, uint64_t seed) {
  rt::Rng rng(seed, 3);
  std::vector<float> x(n);
  for (float &v : x)
    v = rng.uniform() < density ? (binary ? 1.f : static_cast<float>(2 * rng.uniform() - 1)) : 0.f;
  return x;
}

std::vector<float> uniform(int64_t n, uint64_t seed) {
  rt::Rng rng(seed, 4);
  std::vector<float> x(n);
  for (float &v : x) v = static_cast<float>(2 * rng.uniform() - 1);
  return x;
}

Events events_of(const std::vector<float> &x, int64_t rows, int64_t width) {
  Events ev;
  count_events(x.data(), rows, width, ev);
  fill_events(x.data(), ev);
  return ev;
}

struct ConvCase {
  int64_t C, H, W, Cout, K, S, P;
  bool binary;
};

// "C1_28x28_to12_K5_S1_P0_binary": the name of a case in test names and failure messages
std::string case_name(const ConvCase &c) {
  return "C" + std::to_string(c.C) + "_" + std::to_string(c.H) + "x" + std::to_string(c.W) + "_to" +
         std::to_string(c.Cout) + "_K" + std::to_string(c.K) + "_S" + std::to_string(c.S) + "_P" +
         std::to_string(c.P) + (c.binary ? "_binary" : "_real");
}

void PrintTo(const ConvCase &c, std::ostream *os) {
  *os << case_name(c);
}

LayerSpec conv_layer(int64_t channels, int64_t kernel, int64_t padding, int64_t stride = 1) {
  LayerSpec l;
  l.kind = LayerSpec::Conv2d;
  l.channels = channels;
  l.kernel = kernel;
  l.stride = stride;
  l.padding = padding;
  return l;
}

class ConvEvents : public ::testing::TestWithParam<ConvCase> {};

TEST_P(ConvEvents, MatchDense) {
  const ConvCase c = GetParam();
  const LayerSpec l = conv_layer(c.Cout, c.K, c.P, c.S);
  const std::vector<int64_t> in = {c.C, c.H, c.W};
  const int64_t OH = (c.H + 2 * c.P - c.K) / c.S + 1, OW = (c.W + 2 * c.P - c.K) / c.S + 1;
  const int64_t rows = 37, in_size = c.C * c.H * c.W, out_size = c.Cout * OH * OW;
  auto x = sparse_input(rows * in_size, 0.15, c.binary, 1);
  auto w = uniform(c.Cout * c.C * c.K * c.K, 2), b = uniform(c.Cout, 3);
  auto g_y = uniform(rows * out_size, 4);
  Events ev = events_of(x, rows, in_size);
  EXPECT_NEAR(ev.density(), 0.15, 0.03);

  std::vector<float> y_dense(rows * out_size), y_event(rows * out_size);
  conv2d_forward(x.data(), w.data(), b.data(), y_dense.data(), rows, in, l);
  conv2d_forward_events(ev, w.data(), b.data(), y_event.data(), in, l);
  expect_close(y_event, y_dense, "forward");

  std::vector<float> gw_d(w.size(), 0.5f), gb_d(b.size(), 0.25f), gx_d(x.size());
  std::vector<float> gw_e = gw_d, gb_e = gb_d, gx_e(x.size());
  conv2d_backward(x.data(), w.data(), g_y.data(), gx_d.data(), gw_d.data(), gb_d.data(), rows, in,
                  l);
  conv2d_backward(x.data(), w.data(), g_y.data(), gx_e.data(), gw_e.data(), gb_e.data(), rows, in,
                  l, &ev);
  expect_close(gw_e, gw_d, "weight gradient");
  expect_close(gb_e, gb_d, "bias gradient");
  expect_close(gx_e, gx_d, "input gradient");
}

INSTANTIATE_TEST_SUITE_P(
    Geometries, ConvEvents,
    ::testing::Values(ConvCase{1, 28, 28, 12, 5, 1, 0, true},
                      ConvCase{12, 12, 12, 64, 5, 1, 0, true}, ConvCase{3, 9, 11, 5, 3, 2, 1, true},
                      ConvCase{2, 10, 10, 7, 4, 3, 2, false}, ConvCase{4, 6, 6, 3, 3, 1, 2, false},
                      // register-blocked kernels: K = 3 with two and
                      // four vectors of channels, and a width they
                      // leave to the generic path (48)
                      ConvCase{6, 10, 10, 32, 3, 1, 1, true}, ConvCase{3, 8, 8, 64, 3, 1, 0, false},
                      ConvCase{8, 9, 9, 48, 5, 1, 2, true},
                      // row-pattern sums (few input channels, up to 16 outputs): padding,
                      // K = 3 and 4, the widest padded row (32 columns)
                      ConvCase{2, 13, 15, 9, 3, 1, 1, true}, ConvCase{1, 12, 12, 10, 4, 1, 2, true},
                      ConvCase{1, 20, 30, 16, 5, 1, 1, true}),
    [](const ::testing::TestParamInfo<ConvCase> &info) { return case_name(info.param); });

// Binary inputs with enough taps per output take the output-stationary sums; the same
// events with value 2 through half the weights take the scatter, whose products are then
// exact: both must give the same floats, fused pool and winners included.
TEST(ConvEvents, OutputSumsEqualTheScatterBitForBit) {
  for (auto [C, H, Cout, K, P] :
       {std::array<int64_t, 5>{12, 12, 64, 5, 0}, std::array<int64_t, 5>{8, 11, 32, 3, 1},
        std::array<int64_t, 5>{6, 14, 12, 5, 2}, std::array<int64_t, 5>{16, 8, 128, 3, 0}}) {
    const LayerSpec l = conv_layer(Cout, K, P);
    const std::vector<int64_t> in = {C, H, H};
    const int64_t O = H + 2 * P - K + 1, rows = 9, in_size = C * H * H;
    auto x = sparse_input(rows * in_size, 0.3, true, 11);
    auto w = uniform(Cout * C * K * K, 12), b = uniform(Cout, 13);
    std::vector<float> x2(x), w_half(w);
    for (float &v : x2) v *= 2.f;
    for (float &v : w_half) v *= 0.5f;
    Events ev = events_of(x, rows, in_size), ev2 = events_of(x2, rows, in_size);
    std::vector<float> y(rows * Cout * O * O), y2(y.size());
    conv2d_forward_events(ev, w.data(), b.data(), y.data(), in, l);
    conv2d_forward_events(ev2, w_half.data(), b.data(), y2.data(), in, l);
    EXPECT_EQ(y, y2) << "C " << C << " Cout " << Cout << " K " << K;
    const int64_t pooled = rows * Cout * (O / 2) * (O / 2);
    std::vector<float> p(pooled), p2(pooled);
    std::vector<Winner> a(pooled), a2(pooled);
    FusedPool fp{2, p.data(), a.data()}, fp2{2, p2.data(), a2.data()};
    conv2d_forward_events(ev, w.data(), b.data(), nullptr, in, l, &fp);
    conv2d_forward_events(ev2, w_half.data(), b.data(), nullptr, in, l, &fp2);
    EXPECT_EQ(p, p2);
    EXPECT_EQ(a, a2);
  }
}

// Row-pattern sums through the fused 2x2 pool, with winners (training) and without
// (forward-only), equal the pool of the same sums computed unfused
TEST(ConvEvents, PatternSumsThroughTheFusedPoolEqualTheUnfusedPool) {
  for (auto [C, H, W, Cout, K, P] :
       {std::array<int64_t, 6>{1, 28, 28, 12, 5, 0}, std::array<int64_t, 6>{2, 13, 15, 9, 3, 1},
        std::array<int64_t, 6>{1, 11, 30, 16, 4, 2}}) {
    const LayerSpec l = conv_layer(Cout, K, P);
    const std::vector<int64_t> in = {C, H, W};
    const int64_t OH = H + 2 * P - K + 1, OW = W + 2 * P - K + 1, rows = 7, in_size = C * H * W;
    auto x = sparse_input(rows * in_size, 0.12, true, 17);
    auto w = uniform(Cout * C * K * K, 18), b = uniform(Cout, 19);
    Events ev = events_of(x, rows, in_size);
    std::vector<float> y(rows * Cout * OH * OW);
    conv2d_forward_events(ev, w.data(), b.data(), y.data(), in, l);
    const int64_t pooled = rows * Cout * (OH / 2) * (OW / 2);
    std::vector<float> unfused(pooled), with_winners(pooled), forward_only(pooled);
    std::vector<Winner> a(pooled), a2(pooled);
    maxpool_sample(y.data(), unfused.data(), a.data(), rows * Cout, OH, OW, 2, 2, 0);
    FusedPool fw{2, with_winners.data(), a2.data()}, fo{2, forward_only.data(), nullptr};
    conv2d_forward_events(ev, w.data(), b.data(), nullptr, in, l, &fw);
    conv2d_forward_events(ev, w.data(), b.data(), nullptr, in, l, &fo);
    EXPECT_EQ(with_winners, unfused) << "C " << C << " K " << K;
    EXPECT_EQ(a2, a);
    EXPECT_EQ(forward_only, unfused) << "C " << C << " K " << K;
  }
}

/// linear_backward from events (ev) or by the narrow row kernel against the GEMMs: weight,
/// bias and input gradients (weight and bias gradients accumulating onto 0.5 and 0.25); the
/// bias gradient bit for bit, unless pattern tables summed the rows.
void expect_backward_matches_gemm(const std::vector<float> &x, const std::vector<float> &w,
                                  const std::vector<float> &g_y, int64_t rows, int64_t in,
                                  int64_t out, const Events *ev, bool narrow) {
  std::vector<float> gw_d(w.size(), 0.5f), gb_d(out, 0.25f), gx_d(x.size());
  std::vector<float> gw = gw_d, gb = gb_d, gx(x.size());
  linear_backward(x.data(), w.data(), g_y.data(), gx_d.data(), gw_d.data(), gb_d.data(), rows, in,
                  out);
  linear_backward(x.data(), w.data(), g_y.data(), gx.data(), gw.data(), gb.data(), rows, in, out,
                  ev, narrow);
  expect_close(gw, gw_d, "weight gradient");
  if (ev && !narrow && use_pattern_weight_grad(*ev))  // (rows summed in groups of 4)
    expect_close(gb, gb_d, "bias gradient");
  else
    EXPECT_EQ(gb, gb_d) << "bias gradient: the same additions in the same order";
  expect_close(gx, gx_d, "input gradient");
}

TEST(LinearEvents, SpikeListsSkipValues) {
  // count_events tells whether every nonzero is 1 (vector body and scalar tail: width 37),
  // and sum_rows without values (spikes) gives the sums with values of 1 bit for bit
  const int64_t rows = 9, width = 37;
  auto x = sparse_input(rows * width, 0.3, true, 21);
  EXPECT_TRUE(events_of(x, rows, width).ones);
  for (int64_t at : {int64_t{5}, width - 1}) {  // one 0.5 in the vector body, one in the tail
    auto y = x;
    y[3 * width + at] = 0.5f;
    EXPECT_FALSE(events_of(y, rows, width).ones) << "at " << at;
  }
  const int64_t out = 531, in = 40;
  auto table = uniform(in * out, 22), init = uniform(out, 23);
  std::vector<int32_t> index;
  for (int k = 0; k < 60; ++k) index.push_back((k * 7) % in);
  const std::vector<float> ones(index.size(), 1.f);
  std::vector<float> with_values(out), without(out);
  sum_rows(index.data(), ones.data(), static_cast<int64_t>(index.size()), table.data(), out,
           init.data(), with_values.data(), out);
  sum_rows(index.data(), nullptr, static_cast<int64_t>(index.size()), table.data(), out,
           init.data(), without.data(), out);
  EXPECT_EQ(with_values, without);
}

TEST(LinearEvents, MatchDense) {
  // output widths that exercise every vector block size of the AVX-512 path and the tail;
  // rows over several of the weight gradient's row blocks (256), the last one partial
  for (auto [binary, out, rows] :
       {std::tuple{true, int64_t{517}, int64_t{41}}, std::tuple{false, int64_t{517}, int64_t{41}},
        std::tuple{true, int64_t{1000}, int64_t{600}}, std::tuple{false, int64_t{37}, int64_t{41}},
        std::tuple{true, int64_t{37}, int64_t{513}},
        std::tuple{false, int64_t{517}, int64_t{600}}}) {
    const int64_t in = 300;
    auto x = sparse_input(rows * in, 0.1, binary, 5);
    auto w = uniform(out * in, 6), b = uniform(out, 7), g_y = uniform(rows * out, 8);
    Events ev = events_of(x, rows, in);
    std::vector<float> wt(in * out);
    for (int64_t o = 0; o < out; ++o)
      for (int64_t i = 0; i < in; ++i) wt[i * out + o] = w[o * in + i];
    std::vector<float> y_dense(rows * out), y_event(rows * out);
    linear_forward(x.data(), w.data(), b.data(), y_dense.data(), rows, in, out);
    linear_forward_events(ev, wt.data(), out, b.data(), y_event.data(), out);
    expect_close(y_event, y_dense, "forward");
    expect_backward_matches_gemm(x, w, g_y, rows, in, out, &ev, false);
  }
}

TEST(LinearEvents, PatternTablesMatchThePlainSums) {
  // spikes in enough rows take the pattern tables (groups of 4 inputs, blocks of 32
  // columns): their sums, in another order, match the plain sums of the weight rows; 783
  // inputs (a partial last group), 1000 / 37 / 16 outputs (partial last blocks)
  const int64_t rows = 520, in = 783;
  auto x = sparse_input(rows * in, 0.12, true, 41);
  Events ev = events_of(x, rows, in);
  ASSERT_TRUE(ev.ones);
  for (int64_t out : {int64_t{1000}, int64_t{37}, int64_t{16}}) {
    // the transposed weight with rows padded to 16 floats, as Network keeps it; NaN in the
    // padding, which no sum may read
    const int64_t ld = (out + 15) / 16 * 16;
    auto w = uniform(in * out, 42), b = uniform(out, 43);
    std::vector<float> wt(in * ld, std::numeric_limits<float>::quiet_NaN());
    for (int64_t i = 0; i < in; ++i) std::copy_n(w.data() + i * out, out, wt.data() + i * ld);
    if (!snnc::rt::nn::cpu_features().avx512f)
      GTEST_SKIP() << "the pattern tables need AVX-512 (absent, or SNNC_CPU=generic)";
    ASSERT_TRUE(use_linear_patterns(ev));
    std::vector<float> y(rows * out), plain(rows * out);
    linear_forward_events(ev, wt.data(), ld, b.data(), y.data(), out);
    for (int64_t r = 0; r < rows; ++r)
      sum_rows(ev.index.data() + ev.start[r], nullptr, ev.start[r + 1] - ev.start[r], w.data(), out,
               b.data(), plain.data() + r * out, out);
    expect_close(y, plain, "pattern sums");
  }
  Events few = events_of(x, 100, in);  // (100 rows: the plain sums)
  EXPECT_FALSE(use_linear_patterns(few));
}

TEST(LinearEvents, PatternGroupsListedWhileCountingMatchTheEventLists) {
  // count_and_list_patterns (forward-only passes: one pass over the input) gives the counts,
  // the all-ones flag and the groups that count_events, fill_events and list_patterns give;
  // 783 inputs (a partial last vector and group)
  if (!snnc::rt::nn::cpu_features().avx512f)
    GTEST_SKIP() << "the pattern tables need AVX-512 (absent, or SNNC_CPU=generic)";
  const int64_t rows = 520, in = 783;
  auto x = sparse_input(rows * in, 0.12, true, 44);
  for (int64_t r : {int64_t{0}, int64_t{259}, int64_t{260}, rows - 1})  // rows of all spikes
    std::fill(x.begin() + r * in, x.begin() + (r + 1) * in, 1.f);       // (a thread's edges)
  std::fill(x.begin() + 3 * in, x.begin() + 4 * in, 0.f);               // and one of none
  ASSERT_TRUE(may_list_patterns(rows, in));
  Events direct, listed = events_of(x, rows, in);
  PatternLists from_x, from_events;
  EXPECT_EQ(count_and_list_patterns(x.data(), rows, in, direct, from_x), listed.count());
  list_patterns(listed, from_events);
  EXPECT_EQ(direct.start, listed.start);
  EXPECT_TRUE(direct.ones);
  EXPECT_TRUE(direct.index.empty());
  ASSERT_EQ(from_x.count, from_events.count);
  for (int64_t r = 0; r < rows; ++r) {
    const auto *a = from_x.entry.data() + from_x.start[r];
    const auto *b = from_events.entry.data() + from_events.start[r];
    ASSERT_TRUE(std::equal(a, a + from_x.count[r], b)) << "row " << r;
  }
  EXPECT_EQ(from_x.count[0], (in + 3) / 4);
  EXPECT_EQ(from_x.count[3], 0);
  x[7 * in + in - 1] = 0.5f;  // (in the last, partial vector)
  count_and_list_patterns(x.data(), rows, in, direct, from_x);
  EXPECT_FALSE(direct.ones);
  EXPECT_FALSE(may_list_patterns(100, in));
}

TEST(LinearNarrow, MatchesDense) {
  // a readout's row kernel (<= 16 outputs) and its weight gradient from the nonzero inputs,
  // against the GEMMs: binary and real inputs, sparse and dense, input widths off the
  // 16-lane blocks, rows split between threads
  if (!narrow_linear(10)) GTEST_SKIP() << "no AVX-512 here";
  for (auto [binary, density, in, out] : {std::tuple{true, 0.1, int64_t{1000}, int64_t{10}},
                                          std::tuple{false, 0.5, int64_t{77}, int64_t{16}},
                                          std::tuple{true, 0.9, int64_t{300}, int64_t{1}},
                                          std::tuple{false, 0.05, int64_t{1024}, int64_t{7}}}) {
    const int64_t rows = 67;
    auto x = sparse_input(rows * in, density, binary, 11);
    auto w = uniform(out * in, 12), b = uniform(out, 13), g_y = uniform(rows * out, 14);
    std::vector<float> wt(in * 16, 0.f);  // the transposed weight, rows of 16 (Network's cache)
    for (int64_t o = 0; o < out; ++o)
      for (int64_t i = 0; i < in; ++i) wt[i * 16 + o] = w[o * in + i];
    std::vector<float> y_dense(rows * out), y_narrow(rows * out, -7.f);
    linear_forward(x.data(), w.data(), b.data(), y_dense.data(), rows, in, out);
    const int64_t nonzero =
        linear_forward_narrow(x.data(), wt.data(), b.data(), y_narrow.data(), rows, in, out);
    EXPECT_EQ(nonzero, std::count_if(x.begin(), x.end(), [](float v) { return v != 0.f; }));
    expect_close(y_narrow, y_dense, "forward");
    expect_backward_matches_gemm(x, w, g_y, rows, in, out, nullptr, true);
    // the forward keeping its lists (training): the same outputs, and the weight gradient
    // from the kept lists equals the one that lists x again, bit for bit
    Events kept;
    std::vector<float> y_kept(rows * out);
    EXPECT_EQ(
        linear_forward_narrow(x.data(), wt.data(), b.data(), y_kept.data(), rows, in, out, &kept),
        nonzero);
    EXPECT_EQ(y_kept, y_narrow);
    const Events listed = events_of(x, rows, in);
    EXPECT_EQ(kept.index, listed.index);
    EXPECT_EQ(kept.start, listed.start);
    EXPECT_EQ(kept.ones, listed.ones);
    if (!kept.ones) {
      EXPECT_EQ(kept.value, listed.value);
    }
    std::vector<float> gw_listed(w.size(), 0.5f), gw_kept = gw_listed, gb(out, 0.f), gb2 = gb;
    linear_backward(x.data(), w.data(), g_y.data(), nullptr, gw_listed.data(), gb.data(), rows, in,
                    out, nullptr, true);
    linear_backward(x.data(), w.data(), g_y.data(), nullptr, gw_kept.data(), gb2.data(), rows, in,
                    out, &kept, true);
    EXPECT_EQ(gw_kept, gw_listed);
    EXPECT_EQ(gb2, gb);
  }
}

TEST(Events, ListsNonzerosInOrder) {
  std::vector<float> x = {0, 1, 0, 2, 0, 0, 0, 0, 3, 0, 0, 4};
  Events ev = events_of(x, 3, 4);
  EXPECT_EQ(ev.start, (std::vector<int64_t>{0, 2, 2, 4}));
  EXPECT_EQ(ev.index, (std::vector<int32_t>{1, 3, 0, 3}));
  EXPECT_EQ(ev.value, (std::vector<float>{1, 2, 3, 4}));
  EXPECT_DOUBLE_EQ(ev.density(), 4.0 / 12.0);
}

TEST(Events, VectorPathMatchesPlainListing) {
  // widths around the 16-lane blocks; -0 is zero, NaN is an event (x != 0), as in C++
  for (int64_t width : {15, 16, 37, 1728}) {
    auto x = sparse_input(9 * width, 0.3, false, 31);
    x[3] = -0.f;
    x[5] = std::numeric_limits<float>::quiet_NaN();
    Events ev = events_of(x, 9, width);
    std::vector<int64_t> start = {0};
    std::vector<int32_t> index;
    for (int64_t r = 0; r < 9; ++r) {
      for (int64_t k = 0; k < width; ++k)
        if (x[r * width + k] != 0.f) index.push_back(static_cast<int32_t>(k));
      start.push_back(static_cast<int64_t>(index.size()));
    }
    EXPECT_EQ(ev.start, start) << width;
    EXPECT_EQ(ev.index, index) << width;
    for (size_t e = 0; e < index.size(); ++e) {
      int64_t r =
          std::upper_bound(start.begin(), start.end(), static_cast<int64_t>(e)) - start.begin() - 1;
      float want = x[r * width + index[e]];
      EXPECT_TRUE(ev.value[e] == want || (std::isnan(want) && std::isnan(ev.value[e])));
    }
  }
}

const std::string kNet = test::kLeakyNeuron + R"(
network Net {
  input x: [1, 28, 28]
  c = x |> conv2d(12, kernel = 5) |> maxpool(2) |> Leaky(beta = 0.8, threshold = 0.3)
  output y = c |> flatten |> linear(200) |> Leaky(threshold = 0.3) |> linear(5) |> Leaky
}
)";

struct Trained {
  std::vector<float> out;
  std::vector<std::vector<float>> grads;
  std::vector<Network::SynapseStats> stats;
  bool first_cell_kept = true, second_cell_kept = true, flatten_kept = true;
};

Trained step(Synapse mode, double density, bool training = false) {
  const ir::Model model = test::model_from_source(kNet, "Net");
  backends::CompiledModel compiled(model);
  Network net(compiled.layers(), compiled.output());
  net.init_params(11);
  net.force_synapse(mode);
  net.set_training(training, 1);
  const int64_t T = 4, B = 3;
  auto x = sparse_input(T * B * net.features(0), density, true, 9);
  Trained t;
  t.out = net.forward(x.data(), T, B);
  t.first_cell_kept = !net.activation(3).empty();   // c: feeds flatten
  t.second_cell_kept = !net.activation(6).empty();  // y: feeds linear(5)
  t.flatten_kept = !net.activation(4).empty();      // feeds linear(200)
  auto c = uniform(static_cast<int64_t>(t.out.size()), 10);
  net.zero_grad();
  net.backward(c.data());
  for (const auto &p : net.params()) t.grads.push_back(p.grad);
  t.stats = net.synapse_stats();
  return t;
}

TEST(NetworkSynapse, ForcedPathsAgreeAndAutoFollowsDensity) {
  Trained dense = step(Synapse::Dense, 0.1), event = step(Synapse::Event, 0.1);
  // spikes must agree exactly (no membrane sits within rounding of the threshold here);
  // gradients pass through three layers and four steps of sums in different orders
  EXPECT_EQ(event.out, dense.out);
  for (size_t p = 0; p < dense.grads.size(); ++p)
    expect_close(event.grads[p], dense.grads[p], "parameter gradient", 1e-4);
  // layer 1 is the first conv: its input density is the one drawn
  EXPECT_FALSE(dense.stats[1].events);
  EXPECT_TRUE(event.stats[1].events);
  EXPECT_NEAR(event.stats[1].density, 0.1, 0.03);
  Trained sparse = step(Synapse::Auto, 0.02), full = step(Synapse::Auto, 0.9);
  EXPECT_TRUE(sparse.stats[1].events);
  EXPECT_FALSE(full.stats[1].events);
  // the 5-output readout never pays for events under the plan
  EXPECT_FALSE(sparse.stats.back().events || sparse.stats[sparse.stats.size() - 2].events);
}

TEST(NetworkSynapse, NarrowReadoutMatchesTheGemm) {
  // under auto, linear(5) runs the row kernel (AVX-512) forward and for its weight gradient:
  // the same spikes and, up to rounding, the same gradients as the GEMMs; its input density
  // is counted by the row kernel, as the event path counts it
  Trained gemm = step(Synapse::Dense, 0.1, true), row = step(Synapse::Auto, 0.1, true),
          event = step(Synapse::Event, 0.1, true);
  const int readout = 7;  // x, conv, pool, c, flatten, linear(200), cell, linear(5), y
  EXPECT_EQ(row.stats[readout].narrow, narrow_linear(5));
  EXPECT_FALSE(gemm.stats[readout].narrow || event.stats[readout].narrow);
  EXPECT_FALSE(row.stats[readout].events);
  EXPECT_EQ(row.out, gemm.out);
  for (size_t p = 0; p < gemm.grads.size(); ++p)
    expect_close(row.grads[p], gemm.grads[p], "parameter gradient", 1e-4);
  if (row.stats[readout].narrow) {
    EXPECT_DOUBLE_EQ(row.stats[readout].density, event.stats[readout].density);
  }
}

const std::string kPoolNet = test::kLeakyNeuron + R"(
network Net {
  input x: [2, 13, 13]
  a = x |> conv2d(6, kernel = 3, padding = 1) |> maxpool(2) |> Leaky(threshold = 0.2)
  b = a |> conv2d(5, kernel = 3, padding = 1) |> maxpool(3) |> Leaky(threshold = 0.2)
  output y = b |> flatten |> linear(4) |> Leaky(threshold = 0.2)
}
)";

// 32 channels and 8 x 8 pooled windows: whole 16 x 16 tiles in the fused pool's transpose
const std::string kWidePoolNet = test::kLeakyNeuron + R"(
network Net {
  input x: [3, 16, 16]
  a = x |> conv2d(32, kernel = 3, padding = 1) |> maxpool(2) |> Leaky(threshold = 0.2)
  output y = a |> flatten |> linear(4) |> Leaky(threshold = 0.2)
}
)";

Trained pool_step(bool fuse, Synapse mode, const std::string &source = kPoolNet) {
  auto buf = std::make_shared<SourceBuffer>("pool.snn", source);
  DiagnosticEngine diags(buf);
  auto file = frontend::parse_file(*buf, diags);
  EXPECT_TRUE(file && frontend::check(*file, diags));
  auto model = frontend::lower_model(*file, "Net", {}, diags);
  EXPECT_TRUE(model && ir::differentiate_cells(*model, diags));
  if (fuse) {
    ir::optimize_model(*model);
    EXPECT_EQ(model->layers[1].fused_pool, 2);  // a.conv2d computes a.maxpool
    if (&source == &kPoolNet) {
      EXPECT_EQ(model->layers[4].fused_pool, 5);  // b.conv2d (6 x 6 -> 2 x 2)
    }
  } else {
    ir::plan_synapses(*model);
  }
  backends::CompiledModel compiled(*model);
  Network net(compiled.layers(), compiled.output());
  net.init_params(21);
  net.force_synapse(mode);
  const int64_t T = 5, B = 4;
  auto x = sparse_input(T * B * net.features(0), 0.2, true, 13);
  Trained t;
  t.out = net.forward(x.data(), T, B);
  auto c = uniform(static_cast<int64_t>(t.out.size()), 14);
  net.zero_grad();
  net.backward(c.data());
  for (const auto &p : net.params()) t.grads.push_back(p.grad);
  return t;
}

TEST(FuseConvPool, SameOutputsAndGradientsAsSeparateLayers) {
  for (const std::string *source : {&kPoolNet, &kWidePoolNet})
    for (Synapse mode : {Synapse::Dense, Synapse::Event}) {
      Trained separate = pool_step(false, mode, *source), fused = pool_step(true, mode, *source);
      EXPECT_EQ(fused.out, separate.out) << synapse_name(mode);
      double spikes = 0;
      for (float v : fused.out) spikes += v;
      EXPECT_GT(spikes, 0) << "the test needs output spikes to mean anything";
      ASSERT_EQ(fused.grads.size(), separate.grads.size());
      for (size_t p = 0; p < fused.grads.size(); ++p)
        EXPECT_EQ(fused.grads[p], separate.grads[p]) << synapse_name(mode) << " parameter " << p;
    }
}

TEST(MemoryPlan, RecomputedCellsGiveIdenticalGradients) {
  // in training mode a cell whose output feeds only a flatten or an event-driven synaptic op
  // is dropped after forward, and backward recomputes its output and states
  Trained stored = step(Synapse::Event, 0.1, false), recomputed = step(Synapse::Event, 0.1, true);
  EXPECT_TRUE(stored.first_cell_kept && stored.second_cell_kept && stored.flatten_kept);
  EXPECT_FALSE(recomputed.first_cell_kept || recomputed.second_cell_kept);
  // nor does backward read a flatten's output that only event-driven ops consumed
  EXPECT_FALSE(recomputed.flatten_kept);
  EXPECT_EQ(recomputed.out, stored.out);
  for (size_t p = 0; p < stored.grads.size(); ++p)
    EXPECT_EQ(recomputed.grads[p], stored.grads[p]) << "parameter " << p;
  // a dense synaptic op reads its input cell's output in backward: that one is kept
  Trained dense = step(Synapse::Dense, 0.1, true);
  EXPECT_FALSE(dense.first_cell_kept);
  EXPECT_TRUE(dense.second_cell_kept);
  EXPECT_TRUE(dense.flatten_kept);
}

TEST(MemoryPlan, StatesRerunWhenAConsumerLeavesTheEventPath) {
  // a cell whose consumers took the event path last pass keeps only its latest state in
  // forward (it is expected to be recomputed); when a consumer goes dense this pass, the
  // output stays and backward reruns the scan for the states alone: same gradients
  const ir::Model model = test::model_from_source(kNet, "Net");
  backends::CompiledModel compiled(model);
  const int64_t T = 4, B = 3;
  auto gradients = [&](bool event_pass_first) {
    Network net(compiled.layers(), compiled.output());
    net.init_params(11);
    net.set_training(true, 1);
    auto x = sparse_input(T * B * net.features(0), 0.1, true, 9);
    if (event_pass_first) {
      net.force_synapse(Synapse::Event);
      net.forward(x.data(), T, B);
    }
    net.force_synapse(Synapse::Dense);
    const auto out = net.forward(x.data(), T, B);
    EXPECT_FALSE(net.activation(6).empty());  // the hidden cell: its consumer reads it
    auto c = uniform(static_cast<int64_t>(out.size()), 10);
    net.zero_grad();
    net.backward(c.data());
    std::vector<std::vector<float>> grads;
    for (const auto &p : net.params()) grads.push_back(p.grad);
    return grads;
  };
  const auto rerun = gradients(true), stored = gradients(false);
  ASSERT_EQ(rerun.size(), stored.size());
  for (size_t p = 0; p < stored.size(); ++p) EXPECT_EQ(rerun[p], stored[p]) << "parameter " << p;
}

TEST(NetworkSynapse, TransposedWeightsFollowWeightChanges) {
  // the event path caches each linear weight transposed; writes through pointers taken
  // before a forward (as an optimizer or a finite-difference check holds them), with no
  // backward or params() call in between, must reach the next forward
  const ir::Model model = test::model_from_source(kNet, "Net");
  backends::CompiledModel compiled(model);
  const int64_t T = 4, B = 3;
  Network net(compiled.layers(), compiled.output()), fresh(compiled.layers(), compiled.output());
  net.init_params(11);
  net.force_synapse(Synapse::Event);
  fresh.force_synapse(Synapse::Event);
  auto x = sparse_input(T * B * net.features(0), 0.1, true, 9);
  float *w = net.params()[2].value.data();  // linear(200)'s weight
  const size_t nw = net.params()[2].value.size();
  auto same_as_fresh = [&] {
    const std::vector<float> out = net.forward(x.data(), T, B);
    fresh.params() = net.params();
    return out == fresh.forward(x.data(), T, B);
  };
  EXPECT_TRUE(same_as_fresh());
  for (size_t k = 0; k < nw; ++k) w[k] *= -1.5f;
  EXPECT_TRUE(same_as_fresh());
  auto c = uniform(static_cast<int64_t>(net.forward(x.data(), T, B).size()), 10);
  net.backward(c.data());
  for (size_t k = 0; k < nw; ++k) w[k] = -3.f * w[k];  // an optimizer step
  EXPECT_TRUE(same_as_fresh());
  w[nw - 1] += 100.f;  // one weight, the last one compared
  const std::vector<float> before = fresh.forward(x.data(), T, B);
  EXPECT_TRUE(same_as_fresh());
  EXPECT_NE(before, fresh.forward(x.data(), T, B)) << "the last weight must matter here";
  // a copy of a network holds its cache in another buffer (another alignment within it)
  for (int copies = 0; copies < 4; ++copies) {
    const std::vector<float> original = net.forward(x.data(), T, B);
    Network copy = net;
    EXPECT_EQ(copy.forward(x.data(), T, B), original) << "copy " << copies;
  }
}

TEST(TrainStep, MicroBatchesMatchTheWholeBatch) {
  const ir::Model model = test::model_from_source(kNet, "Net");
  backends::CompiledModel compiled(model);
  const int64_t T = 4, B = 7;
  std::vector<int32_t> labels = {0, 1, 2, 3, 4, 0, 1};
  auto run = [&](int64_t micro) {
    Network net(compiled.layers(), compiled.output());
    net.init_params(5);
    net.set_training(true, 1);
    auto x = sparse_input(T * B * net.features(0), 0.15, true, 17);
    auto r = train_step(net, x.data(), labels.data(), T, B, micro,
                        [&](const std::vector<float> &out, const int32_t *l, int64_t n) {
                          return mse_count_loss(out, l, T, n, 5, 0.8, 0.2);
                        });
    std::vector<std::vector<float>> grads;
    for (const auto &p : net.params()) grads.push_back(p.grad);
    return std::make_pair(r, grads);
  };
  auto [whole, g_whole] = run(0);
  for (int64_t micro : {1, 3}) {  // 7 = 3 + 3 + 1: uneven micro-batches too
    auto [part, g_part] = run(micro);
    EXPECT_NEAR(part.loss, whole.loss, 1e-6 * std::abs(whole.loss)) << micro;
    EXPECT_EQ(part.correct, whole.correct);
    for (size_t p = 0; p < g_whole.size(); ++p)
      expect_close(g_part[p], g_whole[p], "micro-batched gradient");
  }
}

TEST(PlanSynapses, WideLayersGetHigherThresholds) {
  ir::Model m;
  ir::Layer in;
  in.shape = {1024};
  ir::Layer wide, narrow;
  wide.kind = narrow.kind = ir::Layer::Linear;
  wide.input = narrow.input = 0;
  wide.out_features = 1000;
  narrow.out_features = 10;
  m.layers = {in, wide, narrow};
  EXPECT_GT(ir::event_threshold(m, m.layers[1]), 0.1);
  EXPECT_EQ(ir::event_threshold(m, m.layers[2]), 0.0);
}

}  // namespace

TEST(Parallel, ExceptionsReachTheCallerAndThePoolKeepsWorking) {
  // a body that throws on some thread: the job finishes everywhere, the caller gets the error
  for (int attempt = 0; attempt < 3; ++attempt) {
    EXPECT_THROW(parallel_for(1000, 1,
                              [](int64_t first, int64_t last) {
                                if (first <= 900 && 900 < last) throw std::runtime_error("boom");
                              }),
                 std::runtime_error);
    std::vector<int> hits(1000, 0);
    parallel_for(1000, 1, [&](int64_t first, int64_t last) {
      for (int64_t k = first; k < last; ++k) ++hits[k];
    });
    EXPECT_EQ(std::count(hits.begin(), hits.end(), 1), 1000);
  }
}

TEST(Parallel, ManyJobsBackToBackAndAfterPauses) {
  // jobs in quick succession (the workers still polling for the next one) and after pauses
  // longer than the polling (the workers asleep on the condition variable), of one range
  // (run inline) or several, some throwing: every index of every job is visited once, every
  // error reaches the caller, and no job waits forever (ctest's timeout)
  std::vector<int> hits(64, 0);
  int expected = 0, errors = 0;
  for (int job = 0; job < 20000; ++job) {
    if (job % 1000 == 999) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    const int64_t n = job % 3 == 0 ? 1 : 64;  // (1: a single range, run by the caller)
    expected += n == 64;
    try {
      parallel_for(n, 1, [&](int64_t first, int64_t last) {
        for (int64_t k = first; k < last; ++k) ++hits[k];
        if (job % 500 == 1 && last == n) throw std::runtime_error("boom");
      });
    } catch (const std::runtime_error &) {
      ++errors;
    }
  }
  EXPECT_EQ(hits[0], 20000);
  EXPECT_EQ(std::count(hits.begin() + 1, hits.end(), expected), 63);
  EXPECT_EQ(errors, 40);
}

TEST(NetworkForwardOnly, FlattenReadInPlaceGivesTheSameOutput) {
  // a forward-only pass (prediction) reads a flatten's input in place instead of copying
  // it; the output, and a training pass after it, must not change
  const ir::Model model = test::model_from_source(kPoolNet, "Net");
  backends::CompiledModel compiled(model);
  const int64_t T = 5, B = 7;
  Network net(compiled.layers(), compiled.output());
  net.init_params(3);
  auto x = sparse_input(T * B * net.features(0), 0.3, true, 21);
  const std::vector<float> full = net.forward(x.data(), T, B);
  int flatten = -1;
  for (size_t i = 0; i < net.layers().size(); ++i)
    if (net.layers()[i].kind == LayerSpec::Flatten) flatten = static_cast<int>(i);
  ASSERT_GE(flatten, 0);
  net.set_forward_only(true);
  EXPECT_EQ(net.forward(x.data(), T, B), full);
  EXPECT_TRUE(net.activation(flatten).empty()) << "the flatten's input was copied";
  EXPECT_EQ(net.forward(x.data(), T, B), full);  // (with the buffers of the pass before)
  net.set_forward_only(false);
  EXPECT_EQ(net.forward(x.data(), T, B), full);
}

/// A forward pass with the fused layer + cell passes off (the reference they must equal).
std::vector<float> forward_unfused(Network &net, const std::vector<float> &x, int64_t T,
                                   int64_t B) {
  net.set_cell_fusion(false);
  std::vector<float> out = net.forward(x.data(), T, B);
  net.set_cell_fusion(true);
  return out;
}

/// A network of a compiled model (which holds the kernels the network calls), initialised
/// from `seed`, every synaptic layer forced to `synapse` when one is given.
struct CompiledNetwork {
  backends::CompiledModel compiled;
  Network net;
  CompiledNetwork(const ir::Model &model, uint64_t seed,
                  std::optional<Synapse> synapse = std::nullopt)
      : compiled(model), net(compiled.layers(), compiled.output()) {
    net.init_params(seed);
    if (synapse) net.force_synapse(*synapse);
  }
};

TEST(NetworkForwardOnly, EventLinearComputesItsCell) {
  // a forward-only pass computes an event-driven linear layer's cell with it (the layer's
  // output is never stored); the cell's output and the network's must equal the unfused
  // pass's bit for bit: 300 outputs (a whole and a partial column block), a stateful and a
  // stateless cell, batches of 7 and 1
  for (const std::string cell : {"Leaky(threshold = 0.2)", "Relu"}) {
    const ir::Model model = test::model_from_source(test::kLeakyNeuron + R"(
neuron Relu { output = max(I, 0) }
network Net {
  input x: [150]
  h = x |> linear(300) |> )" + cell + R"(
  output y = h |> linear(5) |> Leaky(threshold = 0.2)
}
)",
                                                    "Net");
    CompiledNetwork compiled(model, 5, Synapse::Event);
    Network &net = compiled.net;
    int linear = -1, hidden = -1;
    for (size_t i = 0; i + 1 < net.layers().size(); ++i)
      if (net.layers()[i].kind == LayerSpec::Linear && hidden < 0) {
        linear = static_cast<int>(i);
        hidden = static_cast<int>(i) + 1;
      }
    ASSERT_EQ(net.layers()[hidden].kind, LayerSpec::Cell);
    for (int64_t B : {int64_t{7}, int64_t{1}, int64_t{96}}) {  // (96: pattern tables)
      const int64_t T = 6;
      auto x = sparse_input(T * B * net.features(0), 0.2, true, 31);
      if (B == 96 && snnc::rt::nn::cpu_features().avx512f) {  // (the case the tables must serve)
        ASSERT_TRUE(use_linear_patterns(events_of(x, T * B, net.features(0))));
      }
      net.set_forward_only(false);
      const std::vector<float> full = forward_unfused(net, x, T, B);
      const std::vector<float> hidden_full = net.activation(hidden);
      ASSERT_FALSE(net.activation(linear).empty());
      net.set_forward_only(true);
      const int64_t fused_before = net.fusion_stats().cells;
      EXPECT_EQ(net.forward(x.data(), T, B), full) << cell << " B " << B;
      if (fused_column_blocks(300) * B >= 2 * thread_count()) {  // (enough work items)
        EXPECT_EQ(net.fusion_stats().cells, fused_before + 1) << "not fused";
      }
      EXPECT_EQ(net.activation(hidden), hidden_full) << cell << " B " << B;
      EXPECT_TRUE(net.activation(linear).empty()) << "the linear layer's output was stored";
      EXPECT_GT(std::count(hidden_full.begin(), hidden_full.end(), 0.f), 0) << cell;
      EXPECT_LT(std::count(hidden_full.begin(), hidden_full.end(), 0.f),
                static_cast<long>(hidden_full.size()))
          << cell;
    }
  }
}

TEST(NetworkForwardOnly, EventConvComputesItsCell) {
  // the same for event-driven convs (with batches of at least 4 samples per thread): a conv
  // with a fused 2 x 2 pool, one without a pool, one with a 3 x 3 pool, each feeding its
  // cell; 12 channels (padded to 16 on the event path) and 20
  const ir::Model model = test::model_from_source(test::kLeakyNeuron + R"(
network Net {
  input x: [1, 16, 16]
  a = x |> conv2d(12, kernel = 3, padding = 1) |> maxpool(2) |> Leaky(threshold = 0.2)
  b = a |> conv2d(20, kernel = 3) |> Leaky(threshold = 0.3)
  c = b |> conv2d(8, kernel = 3, padding = 1) |> maxpool(3) |> Leaky(threshold = 0.2)
  output y = c |> flatten |> linear(4) |> Leaky(threshold = 0.2)
}
)",
                                                  "Net");
  CompiledNetwork compiled(model, 9, Synapse::Event);
  Network &net = compiled.net;
  const int64_t T = 5, B = 4 * thread_count() + 1;
  auto x = sparse_input(T * B * net.features(0), 0.15, true, 41);
  const std::vector<float> full = forward_unfused(net, x, T, B);
  std::vector<std::vector<float>> cells_full;
  for (size_t i = 0; i < net.layers().size(); ++i)
    if (net.layers()[i].kind == LayerSpec::Cell) cells_full.push_back(net.activation(i));
  net.set_forward_only(true);
  EXPECT_EQ(net.forward(x.data(), T, B), full);
  EXPECT_EQ(net.fusion_stats().cells, 3) << "each conv computes its cell";
  for (size_t i = 0, k = 0; i < net.layers().size(); ++i)
    if (net.layers()[i].kind == LayerSpec::Cell) {
      EXPECT_EQ(net.activation(i), cells_full[k]) << "cell " << i;
      EXPECT_GT(std::count(cells_full[k].begin(), cells_full[k].end(), 1.f), 0) << "cell " << i;
      ++k;
    }
  EXPECT_EQ(net.forward(x.data(), T, B), full);  // (with the buffers of the pass before)
}

TEST(NetworkForwardOnly, FusedSpikesReachANarrowReadoutAsBits) {
  // a fused spiking cell read by a narrow readout (planned dense, at most 16 outputs) hands
  // it its spikes as bits: the readout's sums equal those from the float spikes bit for bit
  if (!narrow_linear(5)) GTEST_SKIP() << "no AVX-512 here";
  const ir::Model model = test::model_from_source(test::kLeakyNeuron + R"(
network Net {
  input x: [150]
  h = x |> linear(1000, synapse = event) |> Leaky(threshold = 0.2)
  output y = h |> linear(5) |> Leaky(beta = 0.5, threshold = 0.05)
}
)",
                                                  "Net");
  CompiledNetwork compiled(model, 3);
  Network &net = compiled.net;
  for (int64_t B : {int64_t{9}, int64_t{1}}) {
    const int64_t T = 4;
    auto x = sparse_input(T * B * net.features(0), 0.2, true, 61);
    net.set_forward_only(true);
    const std::vector<float> unfused = forward_unfused(net, x, T, B);
    const int64_t bits_before = net.fusion_stats().spike_bits;
    EXPECT_EQ(net.forward(x.data(), T, B), unfused) << "B " << B;
    // (fused with enough work items: 4 column blocks per sample, 2 per thread)
    if (4 * B >= 2 * thread_count()) {
      EXPECT_EQ(net.fusion_stats().spike_bits, bits_before + 1) << "the bits path did not run";
    }
    EXPECT_GT(std::count(unfused.begin(), unfused.end(), 1.f), 0);
    EXPECT_GT(std::count(unfused.begin(), unfused.end(), 0.f), 0);
  }
}

TEST(NetworkForwardOnly, FusedConvSpikesReachANarrowReadoutThroughAFlatten) {
  // the same for a conv's fused cell, read by the narrow readout through a flatten (7 x 5 x
  // 5 = 175 features: a partial last word of bits)
  if (!narrow_linear(5)) GTEST_SKIP() << "no AVX-512 here";
  const ir::Model model = test::model_from_source(test::kLeakyNeuron + R"(
network Net {
  input x: [2, 12, 12]
  c = x |> conv2d(7, kernel = 3, synapse = event) |> maxpool(2) |> Leaky(threshold = 0.2)
  output y = c |> flatten |> linear(5) |> Leaky(beta = 0.5, threshold = 0.05)
}
)",
                                                  "Net");
  CompiledNetwork compiled(model, 4);
  Network &net = compiled.net;
  const int64_t T = 3, B = 4 * thread_count() + 1;  // (a conv fuses its cell from 4 per thread)
  auto x = sparse_input(T * B * net.features(0), 0.3, true, 62);
  net.set_forward_only(true);
  const std::vector<float> unfused = forward_unfused(net, x, T, B);
  const int64_t cells_before = net.fusion_stats().cells,
                bits_before = net.fusion_stats().spike_bits;
  EXPECT_EQ(net.forward(x.data(), T, B), unfused);
  EXPECT_EQ(net.fusion_stats().cells, cells_before + 1) << "the conv did not run its cell";
  EXPECT_EQ(net.fusion_stats().spike_bits, bits_before + 1) << "the bits path did not run";
  EXPECT_GT(std::count(unfused.begin(), unfused.end(), 1.f), 0);
  EXPECT_GT(std::count(unfused.begin(), unfused.end(), 0.f), 0);
}

TEST(NetworkForwardOnly, ConvReadsBitsWhileItsCellWritesBitsForTheReadout) {
  // the case of the MNIST CSNN in examples/mnist_csnn.snn: conv2 lists its input from the
  // bits c1's fused cell wrote (no pass over the float spikes), reading one buffer while its
  // own cell writes the narrow readout's into the other (5 x 6 x 6 = 180 features: a partial
  // last word); c2's spikes and the output equal the unfused pass's, and a training pass
  // after it lists the floats
  if (!narrow_linear(5)) GTEST_SKIP() << "no AVX-512 here";
  const ir::Model model = test::model_from_source(test::kLeakyNeuron + R"(
network Net {
  input x: [1, 16, 16]
  c1 = x |> conv2d(5, kernel = 5, synapse = event) |> maxpool(2) |> Leaky(threshold = 0.2)
  c2 = c1 |> conv2d(16, kernel = 3, synapse = event) |> maxpool(2) |> Leaky(threshold = 0.2)
  output y = c2 |> flatten |> linear(5) |> Leaky(beta = 0.5, threshold = 0.05)
}
)",
                                                  "Net");
  CompiledNetwork compiled(model, 7);  // (the readout on `auto`: planned dense, narrow)
  Network &net = compiled.net;
  int c2 = -1;
  for (size_t i = 0; i < net.layers().size(); ++i)
    if (net.layers()[i].name == "c2") c2 = static_cast<int>(i);
  ASSERT_GE(c2, 0);
  const int64_t T = 3, B = 4 * thread_count() + 3;
  auto x = sparse_input(T * B * net.features(0), 0.3, true, 64);
  net.set_forward_only(true);
  const std::vector<float> unfused = forward_unfused(net, x, T, B);
  const std::vector<float> c2_unfused = net.activation(c2);
  const Network::FusionStats before = net.fusion_stats();
  EXPECT_EQ(net.forward(x.data(), T, B), unfused);
  EXPECT_EQ(net.activation(c2), c2_unfused);
  EXPECT_EQ(net.fusion_stats().conv_bits, before.conv_bits + 1) << "no bits for conv2";
  EXPECT_EQ(net.fusion_stats().spike_bits, before.spike_bits + 1) << "no bits for the readout";
  EXPECT_GT(std::count(c2_unfused.begin(), c2_unfused.end(), 1.f), 0);
  EXPECT_GT(std::count(c2_unfused.begin(), c2_unfused.end(), 0.f), 0);
  net.set_forward_only(false);
  EXPECT_EQ(net.forward(x.data(), T, B), unfused);
}

TEST(Events, SpikeBitsMarkTheNonzeros) {
  // bit j of word k for element 16k + j; the last word's bits past the width clear
  std::vector<float> row(37, 0.f);
  for (int64_t j : {0, 5, 15, 16, 31, 32, 36}) row[j] = 1.f;
  row[20] = -0.f;  // (zero: no bit)
  row[21] = 0.25f;
  std::vector<uint16_t> bits(3, 0xffff);
  spike_bits(row.data(), 37, bits.data());
  EXPECT_EQ(bits[0], (1u << 0) | (1u << 5) | (1u << 15));
  EXPECT_EQ(bits[1], (1u << 0) | (1u << 5) | (1u << 15));
  EXPECT_EQ(bits[2], (1u << 0) | (1u << 4));
}

TEST(LinearEvents, InputGradientWrittenOrAdded) {
  // linear_backward writes the input gradient (a first consumer's: no zeroed buffer needed)
  // or adds it to what another consumer left there
  const int64_t rows = 33, in = 70, out = 20;
  auto x = sparse_input(rows * in, 0.3, true, 71);
  auto w = uniform(out * in, 72), g_y = uniform(rows * out, 73), before = uniform(rows * in, 74);
  std::vector<float> gw(w.size(), 0.f), gb(out, 0.f);
  std::vector<float> written(rows * in, 123.f), added = before;
  linear_backward(x.data(), w.data(), g_y.data(), written.data(), gw.data(), gb.data(), rows, in,
                  out);
  linear_backward(x.data(), w.data(), g_y.data(), added.data(), gw.data(), gb.data(), rows, in, out,
                  nullptr, false, true);
  std::vector<float> expected(rows * in);
  for (int64_t k = 0; k < rows * in; ++k) expected[k] = before[k] + written[k];
  expect_close(added, expected, "added input gradient");
  EXPECT_EQ(std::count(written.begin(), written.end(), 123.f), 0);
}
