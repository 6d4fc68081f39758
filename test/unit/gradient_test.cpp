// Gradient checks: the backward pass of every layer kind (with a smooth stateless cell, so
// the whole network is differentiable) against central finite differences, a multi-state
// recurrent cell (leaky integrator with adaptation) through time the same way, and each
// surrogate's derivative against its closed form.
#include <gtest/gtest.h>

#include <cmath>

#include "ExprUtils.h"
#include "Loss.h"
#include "LowerModel.h"
#include "ModelCompiler.h"
#include "ModelPass.h"
#include "Network.h"
#include "Parser.h"
#include "Rng.h"
#include "Sema.h"
#include "passes/Autodiff.h"

using namespace snnc;

namespace {

struct Built {
  std::unique_ptr<backends::CompiledModel> compiled;
  std::unique_ptr<rt::nn::Network> net;
};

Built build(const std::string &text, const std::string &network, bool optimize = false) {
  auto buf = std::make_shared<SourceBuffer>("grad.snn", text);
  DiagnosticEngine diags(buf);
  auto file = frontend::parse_file(*buf, diags);
  EXPECT_TRUE(file && frontend::check(*file, diags)) << text;
  auto model = frontend::lower_model(*file, network, {}, diags);
  EXPECT_TRUE(model && ir::differentiate_cells(*model, diags));
  if (optimize) ir::optimize_model(*model);  // fuse-conv-pool and plan-synapses
  Built b;
  b.compiled = std::make_unique<backends::CompiledModel>(*model);
  b.net = std::make_unique<rt::nn::Network>(b.compiled->layers(), b.compiled->output());
  b.net->init_params(3);
  return b;
}

/// Loss = sum over outputs of c_i * y_i with fixed random c (so every output matters).
double weighted_sum(const std::vector<float> &y, const std::vector<float> &c) {
  double s = 0;
  for (size_t i = 0; i < y.size(); ++i) s += static_cast<double>(y[i]) * c[i];
  return s;
}

void check_network(const std::string &text, const std::string &network, int64_t T, int64_t B,
                   bool optimize = false) {
  Built b = build(text, network, optimize);
  rt::nn::Network &net = *b.net;
  int64_t F = net.features(0);
  rt::Rng rng(5, 1);
  std::vector<float> x(T * B * F);
  for (float &v : x) v = static_cast<float>(rng.uniform());
  const auto &y0 = net.forward(x.data(), T, B);
  std::vector<float> c(y0.size());
  for (float &v : c) v = static_cast<float>(2 * rng.uniform() - 1);
  net.zero_grad();
  net.backward(c.data());
  for (auto &p : net.params()) {
    std::vector<float> analytic = p.grad;
    for (size_t k = 0; k < p.value.size(); k += std::max<size_t>(1, p.value.size() / 7)) {
      float keep = p.value[k];
      const float h = 1e-3f;
      p.value[k] = keep + h;
      double up = weighted_sum(net.forward(x.data(), T, B), c);
      p.value[k] = keep - h;
      double down = weighted_sum(net.forward(x.data(), T, B), c);
      p.value[k] = keep;
      double numeric = (up - down) / (2 * h);
      EXPECT_NEAR(analytic[k], numeric, 2e-3 * std::max(1.0, std::fabs(numeric)))
          << p.name << "[" << k << "]";
    }
  }
}

const char *kSmooth = "neuron Soft { output = tanh(I) }\n";

}  // namespace

TEST(Gradients, LinearLayers) {
  check_network(
      std::string(kSmooth) +
          "network N { input x: [6]\n output y = x |> linear(5) |> Soft |> linear(3) |> Soft }",
      "N", 2, 3);
}

TEST(Gradients, ConvolutionPoolingFlatten) {
  check_network(std::string(kSmooth) +
                    "network N { input x: [2, 7, 7]\n"
                    " c = x |> conv2d(3, kernel = 3, padding = 1) |> Soft |> maxpool(2)\n"
                    " d = c |> conv2d(2, kernel = 2, stride = 1) |> avgpool(2) |> Soft\n"
                    " output y = d |> flatten |> linear(4) |> Soft }",
                "N", 1, 2);
}

TEST(Gradients, FusedConvPoolByFiniteDifferences) {
  // both convs compute their max-pool (fuse-conv-pool); the second one routes the pooled
  // gradients to their winners for its weight and input gradients (padding 1, pooled
  // output smaller than the conv output's floor)
  check_network(std::string(kSmooth) +
                    "network N { input x: [2, 9, 9]\n"
                    " c = x |> conv2d(3, kernel = 3, padding = 1) |> maxpool(2) |> Soft\n"
                    " d = c |> conv2d(4, kernel = 2, padding = 1) |> maxpool(2) |> Soft\n"
                    " output y = d |> flatten |> linear(3) |> Soft }",
                "N", 2, 2, true);
  // the input gradient behind a fused pool of a strided conv (computed per output position
  // from the routed, mostly zero gradient)
  check_network(
      std::string(kSmooth) +
          "network S { input x: [2, 11, 11]\n"
          " c = x |> conv2d(3, kernel = 3, padding = 1) |> Soft\n"
          " d = c |> conv2d(5, kernel = 3, stride = 2, padding = 1) |> maxpool(2) |> Soft\n"
          " output y = d |> flatten |> linear(3) |> Soft }",
      "S", 2, 2, true);
}

TEST(Gradients, AdaptiveCellMatchesHandWrittenBptt) {
  // ALIF (adaptive threshold): two states coupled through the reset and the threshold. The
  // compiler derives its backward step; here it is written out by hand and run as a loop.
  const double beta = 0.95, rho = 0.9, b0 = 0.2, gamma = 1.8, width = 0.5;
  Built b = build(
      "neuron ALIF(beta: real = 0.95, rho: real = 0.9, b0: real = 0.2, gamma: real = 1.8) {\n"
      "  state mem: real = 0\n  state a: real = 0\n"
      "  update { a = rho * a + (1 - rho) * spiked\n"
      "           mem = beta * mem + (1 - beta) * I - spiked * (b0 + gamma * a) }\n"
      "  spike when mem > b0 + gamma * a surrogate triangle(width = 0.5)\n}\n"
      "network N { input x: [3]\n output y = x |> ALIF }",
      "N");
  const rt::nn::LayerSpec &cell = b.compiled->layers()[1];
  const int64_t T = 30, N = 3;
  rt::Rng rng(11, 2);
  std::vector<float> I(T * N), out(T * N), post(T * 2 * N), g_out(T * N), g_I(T * N),
      carry(2 * N, 0.f);
  for (float &v : I) v = static_cast<float>(8 * rng.uniform());
  for (float &v : g_out) v = static_cast<float>(2 * rng.uniform() - 1);
  cell.forward(I.data(), out.data(), post.data(), T, N, N, N, 2 * N);
  std::vector<float> g_post(T * 2 * N, 0.f);
  cell.backward(I.data(), out.data(), post.data(), g_out.data(), g_post.data(), g_I.data(),
                carry.data(), T, N, N);
  int spikes = 0;
  for (int64_t n = 0; n < N; ++n) {
    // forward by hand
    std::vector<double> m(T), a(T), s(T);
    double mp = 0, ap = 0, sp = 0;
    for (int64_t t = 0; t < T; ++t) {
      a[t] = rho * ap + (1 - rho) * sp;
      m[t] = beta * mp + (1 - beta) * I[t * N + n] - sp * (b0 + gamma * a[t]);
      s[t] = m[t] - (b0 + gamma * a[t]) > 0;
      EXPECT_EQ(out[t * N + n], s[t]);
      EXPECT_NEAR(post[(t * 2 + 0) * N + n], m[t], 1e-4);
      spikes += s[t] > 0;
      mp = m[t], ap = a[t], sp = s[t];
    }
    // backward by hand: carries am = dL/dm[t], aa = dL/da[t] from the future
    double am = 0, aa = 0;
    for (int64_t t = T - 1; t >= 0; --t) {
      double h = m[t] - (b0 + gamma * a[t]);
      double sg = std::max(1 - std::fabs(h) / width, 0.0) / width;
      double ds = g_out[t * N + n] * sg;
      double tm = am + ds, ta = aa - gamma * ds;
      double s_prev = t ? s[t - 1] : 0;
      EXPECT_NEAR(g_I[t * N + n], tm * (1 - beta), 1e-5) << "t=" << t;
      am = tm * beta;
      aa = ta * rho + tm * (-s_prev * gamma * rho);
    }
  }
  EXPECT_GT(spikes, 5);  // the case exercises resets
}

TEST(Surrogates, DerivativesMatchClosedForms) {
  auto eval = [](const std::string &name, std::vector<ir::Param> params, double h) {
    ir::ExprPtr e = ir::surrogate_derivative(name, params, ir::var("h"));
    return ir::evaluate(e, [&](const std::string &) { return h; });
  };
  auto p = [](const char *n, double v) { return ir::Param{n, Dim::none(), ir::num(v), {}}; };
  for (double h : {-0.7, -0.1, 0.0, 0.05, 0.4}) {
    EXPECT_NEAR(eval("fast_sigmoid", {p("slope", 25)}, h), 1 / std::pow(25 * std::fabs(h) + 1, 2),
                1e-12);
    double x = M_PI / 2 * 2 * h;
    EXPECT_NEAR(eval("arctan", {}, h), 1.0 / (1 + x * x), 1e-12);
    double s = 1 / (1 + std::exp(-5 * h));
    EXPECT_NEAR(eval("sigmoid", {p("slope", 5)}, h), 5 * s * (1 - s), 1e-12);
    EXPECT_NEAR(eval("triangle", {p("width", 0.5)}, h), std::max(1 - std::fabs(h) / 0.5, 0.0) / 0.5,
                1e-12);
    EXPECT_EQ(eval("straight_through", {}, h), 1.0);
  }
  EXPECT_EQ(ir::surrogate_derivative("nope", {}, ir::var("h")), nullptr);
}

TEST(Gradients, DropoutMasksForwardAndBackwardAlike) {
  Built b = build(
      std::string(kSmooth) + "network N { input x: [100]\n output y = x |> dropout(0.3) |> Soft }",
      "N");
  rt::nn::Network &net = *b.net;
  std::vector<float> x(2 * 4 * 100, 1.f), g(2 * 4 * 100, 1.f);
  net.set_training(true, 9);
  net.forward(x.data(), 2, 4);
  const auto &dropped = net.activation(1);
  int zeros = 0;
  for (float v : dropped) {
    EXPECT_TRUE(v == 0.f || std::fabs(v - 1 / 0.7f) < 1e-6) << v;
    zeros += v == 0.f;
  }
  EXPECT_NEAR(zeros / 800.0, 0.3, 0.07);
  net.set_training(false);
  net.forward(x.data(), 2, 4);
  EXPECT_EQ(net.activation(1), x);  // inference: identity
}

TEST(Gradients, MembraneLossesByFiniteDifferences) {
  // an output cell that never spikes: the membrane is a smooth function of the weights, so
  // the gradient through the state (membrane losses) can be checked by finite differences
  Built b = build(
      "neuron Acc(beta: real = 0.8) {\n  state mem: real = 0\n  update { mem = beta * mem + I }\n"
      "  spike when mem > 1000\n}\nnetwork N { input x: [5]\n output y = x |> linear(4) |> Acc }",
      "N");
  rt::nn::Network &net = *b.net;
  const int64_t T = 6, B = 3, K = 4;
  rt::Rng rng(3, 3);
  std::vector<float> x(T * B * 5);
  for (float &v : x) v = static_cast<float>(rng.uniform());
  std::vector<int32_t> labels = {0, 2, 3};
  for (int which = 0; which < 2; ++which) {
    auto loss_of = [&]() {
      net.forward(x.data(), T, B);
      return which == 0 ? rt::nn::membrane_cross_entropy_loss(net.post_state(net.output()),
                                                              labels.data(), T, B, K, 1)
                        : rt::nn::membrane_mse_loss(net.post_state(net.output()), labels.data(), T,
                                                    B, K, 1, 1.0, 0.0);
    };
    auto l0 = loss_of();
    net.zero_grad();
    net.backward(l0.grad.data(), l0.state_grad.data());
    for (auto &p : net.params()) {
      std::vector<float> analytic = p.grad;
      for (size_t k = 0; k < p.value.size(); k += 3) {
        float keep = p.value[k];
        p.value[k] = keep + 1e-3f;
        double up = loss_of().loss;
        p.value[k] = keep - 1e-3f;
        double down = loss_of().loss;
        p.value[k] = keep;
        EXPECT_NEAR(analytic[k], (up - down) / 2e-3, 1e-3)
            << (which ? "mse " : "ce ") << p.name << "[" << k << "]";
      }
    }
  }
}
