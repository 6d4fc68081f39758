// Agreement with snnTorch 0.9.4: for every case in test/reference/snntorch/*.json, build
// Linear -> Leaky -> Linear -> Leaky from the case's config *in the DSL*, compile it (autodiff
// pass, LLVM cell kernels), load the initial weights and the input, and compare spikes
// (exactly), membranes, loss and weight gradients.
//
// Tolerance: snnc and the reference both run in float32 but sum in different orders (BLAS
// vs PyTorch), so values agree to a few float32 ulps of the tensor's scale, not pointwise
// relative to values that cancel to ~0. We require |got - want| <= 1e-5 * max(|want|, m),
// m = the largest magnitude in that tensor: 1e-5 relative at the tensor's scale.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "Loss.h"
#include "LowerModel.h"
#include "ModelCompiler.h"
#include "Network.h"
#include "Parser.h"
#include "Sema.h"
#include "passes/Autodiff.h"

using namespace snnc;
using nlohmann::json;

namespace {

std::vector<std::string> case_files() {
  std::vector<std::string> files;
  for (const auto &e :
       std::filesystem::directory_iterator(SNNC_SOURCE_DIR "/test/reference/snntorch"))
    if (e.path().extension() == ".json") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

std::string dsl_for(const json &cfg) {
  std::string reset = cfg["reset"] == "zero" ? "mem = beta * (1 - spiked) * mem + I"
                                             : "mem = beta * mem + I - spiked * threshold";
  auto num = [](const json &v) { return ir::format_number(v.get<double>()); };
  return "neuron RefLeaky(beta: real = " + num(cfg["beta"]) +
         ", threshold: real = " + num(cfg["thr"]) + ") {\n  state mem: real = 0\n  update { " +
         reset + " }\n  spike when mem > threshold surrogate " +
         "fast_sigmoid(slope = " + num(cfg["slope"]) + ")\n}\nnetwork Ref {\n  input x: [" +
         std::to_string(cfg["n_in"].get<int>()) + "]\n  h = x |> linear(" +
         std::to_string(cfg["n_hid"].get<int>()) + ") |> RefLeaky\n  output y = h |> linear(" +
         std::to_string(cfg["n_out"].get<int>()) + ") |> RefLeaky\n}\n";
}

std::vector<float> flat(const json &j) {
  std::vector<float> out;
  std::function<void(const json &)> walk = [&](const json &v) {
    if (v.is_array())
      for (const auto &x : v) walk(x);
    else
      out.push_back(v.get<float>());
  };
  walk(j);
  return out;
}

void expect_close(const std::vector<float> &got, const std::vector<float> &want,
                  const std::string &what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  float scale = 0;
  for (float w : want) scale = std::max(scale, std::fabs(w));
  int bad = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    double tol = 1e-5 * std::max<double>(std::fabs(want[i]), scale);
    if (std::fabs(got[i] - want[i]) > tol && bad++ < 5)
      ADD_FAILURE() << what << "[" << i << "]: got " << got[i] << ", want " << want[i];
  }
  EXPECT_EQ(bad, 0) << what;
}

class SnnTorchReference : public ::testing::TestWithParam<std::string> {};

TEST_P(SnnTorchReference, SpikesMembranesLossAndGradientsAgree) {
  json ref = json::parse(std::ifstream(GetParam()));
  const json &cfg = ref["config"];
  int T = cfg["T"], B = cfg["B"], n_out = cfg["n_out"];

  auto buf = std::make_shared<SourceBuffer>("reference.snn", dsl_for(cfg));
  DiagnosticEngine diags(buf);
  auto file = frontend::parse_file(*buf, diags);
  ASSERT_TRUE(file && frontend::check(*file, diags)) << buf->text();
  auto model = frontend::lower_model(*file, "Ref", {}, diags);
  ASSERT_TRUE(model);
  ASSERT_TRUE(ir::differentiate_cells(*model, diags));
  backends::CompiledModel compiled(*model);
  rt::nn::Network net(compiled.layers(), compiled.output());

  const char *names[] = {"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"};
  ASSERT_EQ(net.params().size(), 4u);
  for (int i = 0; i < 4; ++i) {
    net.params()[i].value = flat(ref["init"][names[i]]);
    ASSERT_EQ(net.params()[i].value.size(), net.params()[i].grad.size()) << names[i];
  }
  std::vector<float> x = flat(ref["input"]);
  const std::vector<float> &out = net.forward(x.data(), T, B);

  // layers: 0 input, 1 linear, 2 cell, 3 linear, 4 cell
  EXPECT_EQ(net.activation(2), flat(ref["trace"]["spk1"])) << "hidden spikes";
  EXPECT_EQ(out, flat(ref["trace"]["spk2"])) << "output spikes";
  expect_close(net.post_state(2), flat(ref["trace"]["mem1"]), "mem1");
  expect_close(net.post_state(4), flat(ref["trace"]["mem2"]), "mem2");

  std::vector<int32_t> labels;
  for (const auto &t : ref["target"]) labels.push_back(t.get<int32_t>());
  auto loss =
      rt::nn::mse_count_loss(out, labels.data(), T, B, n_out, cfg["rates"][0], cfg["rates"][1]);
  EXPECT_NEAR(loss.loss, ref["loss"].get<double>(), 1e-5 * std::fabs(ref["loss"].get<double>()));
  net.zero_grad();
  net.backward(loss.grad.data());
  for (int i = 0; i < 4; ++i)
    expect_close(net.params()[i].grad, flat(ref["grad"][names[i]]), names[i]);
}

INSTANTIATE_TEST_SUITE_P(Cases, SnnTorchReference, ::testing::ValuesIn(case_files()),
                         [](const ::testing::TestParamInfo<std::string> &info) {
                           return std::filesystem::path(info.param).stem().string();
                         });

}  // namespace
