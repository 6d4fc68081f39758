// Sparse linear layers (`linear(N, sparsity = p)`): the compressed computation over the kept
// connections equals the dense layer whose absent weights are zero (forward, input and bias
// gradients; weight gradients on the kept entries, none on the absent ones); a network
// draws the mask from its seed, keeps absent connections at zero through optimizer steps,
// and recovers the mask from loaded weights.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "Events.h"
#include "ModelCompiler.h"
#include "ModelFromSource.h"
#include "Network.h"
#include "Ops.h"
#include "Parser.h"
#include "Rng.h"
#include "Sema.h"
#include "SparseLinear.h"
#include "Weights.h"
#include "passes/Autodiff.h"
#include "train/Optimizer.h"

using namespace snnc;
using namespace snnc::rt::nn;

namespace {

double worst_relative(const std::vector<float> &a, const std::vector<float> &b) {
  double scale = 1e-12, worst = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    scale = std::max(scale, std::abs(static_cast<double>(b[i])));
    worst = std::max(worst, std::abs(static_cast<double>(a[i]) - b[i]));
  }
  return worst / scale;
}

TEST(SparseLinear, MatchesTheDenseLayerWithZeroedWeights) {
  const int64_t rows = 40, in = 300, out = 70;
  rt::Rng rng(7, 1);
  std::vector<float> w(out * in), b(out), g_y(rows * out);
  for (float &v : w) v = rng.uniform() < 0.85 ? 0.f : static_cast<float>(2 * rng.uniform() - 1);
  for (float &v : b) v = static_cast<float>(rng.uniform());
  for (float &v : g_y) v = static_cast<float>(2 * rng.uniform() - 1);
  for (bool binary : {true, false}) {
    SCOPED_TRACE(binary ? "spike input" : "real-valued input");
    std::vector<float> x(rows * in);
    for (float &v : x)
      v = rng.uniform() < 0.2 ? (binary ? 1.f : static_cast<float>(2 * rng.uniform() - 1)) : 0.f;
    Events ev;
    count_events(x.data(), rows, in, ev);
    fill_events(x.data(), ev);
    SparseConnections c = sparse_connections(w.data(), out, in);
    gather_weights(c, w.data());
    EXPECT_EQ(c.kept(), std::count_if(w.begin(), w.end(), [](float v) { return v != 0.f; }));
    std::vector<float> y_sparse(rows * out), y_dense(rows * out);
    sparse_linear_forward(c, ev, b.data(), y_sparse.data());
    linear_forward(x.data(), w.data(), b.data(), y_dense.data(), rows, in, out);
    EXPECT_LE(worst_relative(y_sparse, y_dense), 1e-5);
    std::vector<float> gx_s(rows * in, 0.f), gw_s(out * in, 0.f), gb_s(out, 0.f);
    std::vector<float> gx_d(rows * in, 0.f), gw_d(out * in, 0.f), gb_d(out, 0.f);
    sparse_linear_backward(c, ev, g_y.data(), gx_s.data(), gw_s.data(), gb_s.data());
    linear_backward(x.data(), w.data(), g_y.data(), gx_d.data(), gw_d.data(), gb_d.data(), rows, in,
                    out);
    EXPECT_LE(worst_relative(gx_s, gx_d), 1e-5);
    EXPECT_LE(worst_relative(gb_s, gb_d), 1e-5);
    for (size_t k = 0; k < w.size(); ++k)
      if (w[k] == 0.f) {
        ASSERT_EQ(gw_s[k], 0.f) << "an absent connection got a gradient";
      }
    std::vector<float> kept_s, kept_d;
    for (size_t k = 0; k < w.size(); ++k)
      if (w[k] != 0.f) kept_s.push_back(gw_s[k]), kept_d.push_back(gw_d[k]);
    EXPECT_LE(worst_relative(kept_s, kept_d), 1e-5);
  }
}

std::string net_source(double sparsity) {
  return R"(
neuron Leaky(beta: real = 0.9, threshold: real = 1.0) {
  state mem: real = 0
  update { mem = beta * mem + I - spiked * threshold }
  spike when mem > threshold surrogate fast_sigmoid(slope = 25)
}
network Net {
  input x: [200]
  h = x |> linear(80, sparsity = )" +
         std::to_string(sparsity) + R"() |> Leaky(threshold = 0.3)
  h2 = h |> linear(60, sparsity = )" +
         std::to_string(sparsity) + R"() |> Leaky(threshold = 0.3)
  output y = h2 |> linear(5) |> Leaky(threshold = 0.3)
}
)";
}

ir::Model sparse_model(double sparsity) {
  return test::model_from_source(net_source(sparsity), "Net");
}

class SparseNetwork : public ::testing::TestWithParam<double> {};

TEST_P(SparseNetwork, KeepsAbsentConnectionsAtZero) {
  const double sparsity = GetParam();
  ir::Model model = sparse_model(sparsity);
  EXPECT_EQ(model.layers[1].sparsity, sparsity);
  EXPECT_EQ(model.layers[1].compressed, sparsity >= 0.93);  // the plan's crossover
  backends::CompiledModel compiled(model);
  Network net(compiled.layers(), compiled.output());
  net.init_params(3);
  std::vector<float> &w = net.params()[0].value;  // h.linear.weight [80][200]
  const std::vector<float> initial = w;
  const double absent = static_cast<double>(std::count(w.begin(), w.end(), 0.f)) / w.size();
  EXPECT_NEAR(absent, sparsity, 0.02);
  const int64_t T = 5, B = 4;
  rt::Rng rng(5, 2);
  std::vector<float> x(T * B * 200);
  for (float &v : x) v = rng.uniform() < 0.3 ? 1.f : 0.f;
  auto opt = rt::make_adam(1e-2);
  std::vector<rt::ParamRef> refs;
  for (auto &p : net.params())
    refs.push_back({p.name, p.value.data(), p.grad.data(), static_cast<int64_t>(p.value.size())});
  net.set_training(true, 1);
  double moved = 0;
  for (int step = 0; step < 3; ++step) {
    const auto &out = net.forward(x.data(), T, B);
    std::vector<float> g(out.size());
    for (float &v : g) v = static_cast<float>(2 * rng.uniform() - 1);
    net.zero_grad();
    net.backward(g.data());
    opt->step(refs);
  }
  for (size_t k = 0; k < w.size(); ++k) {
    if (initial[k] == 0.f) {
      ASSERT_EQ(w[k], 0.f) << "an absent connection appeared";
    }
    moved += std::abs(w[k] - initial[k]);
  }
  EXPECT_GT(moved, 0) << "the kept connections must learn";
  // a dense gradient (as the GPU computes it) is masked back to the kept connections
  std::fill(net.params()[0].grad.begin(), net.params()[0].grad.end(), 1.f);
  net.mask_gradients();
  for (size_t k = 0; k < w.size(); ++k) ASSERT_EQ(net.params()[0].grad[k], w[k] == 0.f ? 0.f : 1.f);
  // a second network with these weights loaded computes the same outputs
  Network copy(compiled.layers(), compiled.output());
  for (size_t p = 0; p < net.params().size(); ++p) copy.params()[p].value = net.params()[p].value;
  copy.refresh_sparsity();
  EXPECT_EQ(copy.forward(x.data(), T, B), net.forward(x.data(), T, B));
}

// "Sparsity90": the sparsity in percent (0.9 zero-filled, 0.97 compressed)
INSTANTIATE_TEST_SUITE_P(Sparsities, SparseNetwork, ::testing::Values(0.9, 0.97),
                         [](const ::testing::TestParamInfo<double> &info) {
                           return "Sparsity" + std::to_string(std::lround(info.param * 100));
                         });

TEST(SparseLinear, CompressedAndZeroFilledLayersAgree) {
  // the same sparse weights computed over the kept connections or as a dense/event layer
  // with zeros: the same outputs and gradients (sums in another order)
  ir::Model model = sparse_model(0.97);
  backends::CompiledModel compiled(model);
  std::vector<LayerSpec> layers = compiled.layers();
  ASSERT_TRUE(layers[1].compressed && layers[3].compressed);  // h3's input gradient too
  Network compressed(layers, compiled.output());
  compressed.init_params(9);
  layers[1].compressed = layers[3].compressed = false;
  Network zero_filled(layers, compiled.output());
  for (size_t p = 0; p < compressed.params().size(); ++p)
    zero_filled.params()[p].value = compressed.params()[p].value;
  zero_filled.refresh_sparsity();
  const int64_t T = 4, B = 3;
  rt::Rng rng(11, 2);
  std::vector<float> x(T * B * 200), g(T * B * 5);
  for (float &v : x) v = rng.uniform() < 0.4 ? 1.f : 0.f;
  for (float &v : g) v = static_cast<float>(2 * rng.uniform() - 1);
  const std::vector<float> y1 = compressed.forward(x.data(), T, B);
  const std::vector<float> y2 = zero_filled.forward(x.data(), T, B);
  EXPECT_LE(worst_relative(y1, y2), 1e-5);
  compressed.zero_grad();
  zero_filled.zero_grad();
  compressed.backward(g.data());
  zero_filled.backward(g.data());
  for (size_t p = 0; p < compressed.params().size(); ++p)
    EXPECT_LE(worst_relative(compressed.params()[p].grad, zero_filled.params()[p].grad), 1e-4)
        << compressed.params()[p].name;
}

}  // namespace

TEST(SparseLinear, RefusesACheckpointWithMoreConnections) {
  // the mask of a sparse layer is read from its weights' zeros: a dense checkpoint of the
  // same shape is another network's, and saying so beats silently keeping every connection
  ir::Model model = sparse_model(0.9);
  backends::CompiledModel compiled(model);
  Network sparse(compiled.layers(), compiled.output());
  sparse.init_params(1);
  std::vector<rt::NamedTensor> tensors;
  for (const auto &p : sparse.params()) tensors.push_back({p.name, p.shape, p.value});
  EXPECT_NO_THROW(load_weights(sparse, tensors, "own.safetensors"));
  for (float &v : tensors[0].data) v = v == 0.f ? 0.25f : v;  // every connection present
  try {
    load_weights(sparse, tensors, "dense.safetensors");
    FAIL() << "a dense checkpoint was accepted for a sparse layer";
  } catch (const std::runtime_error &e) {
    EXPECT_NE(std::string(e.what()).find("dense.safetensors: tensor 'h.linear.weight' has 100 % "
                                         "nonzero weights, but the layer keeps 10 %"),
              std::string::npos)
        << e.what();
  }
}
