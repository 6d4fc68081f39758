// train_bench — times training and inference of the seed CSNN and the FC 784-1000-10 SNN
// on random MNIST-shaped spike input (about 12 % input spikes per step, T = 25), as the
// snnTorch reference was measured: training step at batch 128 (forward, spike-count MSE,
// backward, Adam), inference at batch 128, batch-1 latency. Prints JSON: median, min, max.
//
// usage: snnc_bench_train [--repeats N] [--examples DIR]
#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "Loss.h"
#include "LowerModel.h"
#include "ModelCompiler.h"
#include "Network.h"
#include "Parser.h"
#include "Rng.h"
#include "Sema.h"
#include "passes/Autodiff.h"
#include "passes/PlanSynapses.h"
#include "train/Optimizer.h"

using namespace snnc;
using Clock = std::chrono::steady_clock;

namespace {

struct Stats {
  double median, min, max;
};

template <typename Fn>
Stats time_it(int repeats, Fn fn) {
  fn();  // warm-up
  std::vector<double> t;
  for (int i = 0; i < repeats; ++i) {
    auto t0 = Clock::now();
    fn();
    t.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return {t[t.size() / 2], t.front(), t.back()};
}

nlohmann::json to_json(const Stats &s) {
  return {{"median_s", s.median}, {"min_s", s.min}, {"max_s", s.max}};
}

rt::nn::Synapse g_synapse = rt::nn::Synapse::Auto;

nlohmann::json bench(const std::string &file, const std::string &network, int repeats) {
  std::ifstream in(file);
  std::stringstream ss;
  ss << in.rdbuf();
  auto buf = std::make_shared<SourceBuffer>(file, ss.str());
  DiagnosticEngine diags(buf);
  auto ast = frontend::parse_file(*buf, diags);
  if (!ast || !frontend::check(*ast, diags)) throw std::runtime_error("cannot compile " + file);
  auto model = frontend::lower_model(*ast, network, {}, diags);
  if (!model || !ir::differentiate_cells(*model, diags))
    throw std::runtime_error("cannot lower " + network);
  ir::plan_synapses(*model);
  backends::CompiledModel compiled(*model);
  rt::nn::Network net(compiled.layers(), compiled.output());
  net.init_params(1);
  net.force_synapse(g_synapse);
  const int64_t T = 25, F = net.features(0), K = net.features(net.output());
  auto make_input = [&](int64_t B) {
    rt::Rng rng(1, static_cast<uint64_t>(B));
    std::vector<float> x(T * B * F);
    for (float &v : x) v = rng.uniform() < 0.12 ? 1.f : 0.f;
    return x;
  };
  std::vector<float> x128 = make_input(128), x1 = make_input(1);
  std::vector<int32_t> labels(128);
  for (int i = 0; i < 128; ++i) labels[i] = i % 10;
  auto opt = rt::make_adam(2e-3);
  std::vector<rt::ParamRef> refs;
  for (auto &p : net.params())
    refs.push_back({p.name, p.value.data(), p.grad.data(), static_cast<int64_t>(p.value.size())});
  Stats train = time_it(repeats, [&] {
    const auto &out = net.forward(x128.data(), T, 128);
    auto loss = rt::nn::mse_count_loss(out, labels.data(), T, 128, K, 0.8, 0.2);
    net.zero_grad();
    net.backward(loss.grad.data());
    opt->step(refs);
  });
  const double train_buffers_mib = static_cast<double>(net.buffer_bytes()) / (1 << 20);
  Stats infer = time_it(repeats, [&] {
    const auto &out = net.forward(x128.data(), T, 128);
    rt::nn::predict_by_count(out, T, 128, K);
  });
  Stats latency = time_it(repeats * 5, [&] {
    const auto &out = net.forward(x1.data(), T, 1);
    rt::nn::predict_by_count(out, T, 1, K);
  });
  nlohmann::json profile = nlohmann::json::object();
  for (size_t i = 1; i < net.layers().size(); ++i) {
    profile[net.layers()[i].name] = {{"forward_s", net.forward_seconds()[i]},
                                     {"backward_s", net.backward_seconds()[i]}};
    const auto &st = net.synapse_stats()[i];
    if (st.event_passes + st.dense_passes > 0) {
      profile[net.layers()[i].name]["input_density_last"] = st.density;
      profile[net.layers()[i].name]["event_passes"] = st.event_passes;
      profile[net.layers()[i].name]["dense_passes"] = st.dense_passes;
    }
  }
  int64_t params = 0;
  for (const auto &p : net.params()) params += static_cast<int64_t>(p.value.size());
  return {{"network", network},
          {"file", file},
          {"parameters", params},
          {"T", T},
          {"train_step_batch128", to_json(train)},
          {"train_buffers_mib", train_buffers_mib},
          {"inference_batch128", to_json(infer)},
          {"latency_batch1", to_json(latency)},
          {"profile_all_runs", profile}};
}

}  // namespace

int main(int argc, char **argv) {
  int repeats = 5;
  std::string examples = SNNC_SOURCE_DIR "/examples";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--repeats")
      repeats = std::max(1, std::atoi(argv[i + 1]));
    else if (a == "--examples")
      examples = argv[i + 1];
    else if (a == "--synapse")
      g_synapse = std::string(argv[i + 1]) == "dense"   ? rt::nn::Synapse::Dense
                  : std::string(argv[i + 1]) == "event" ? rt::nn::Synapse::Event
                                                        : rt::nn::Synapse::Auto;
  }
  try {
    nlohmann::json out = {{"benchmark", "training"},
                          {"repeats", repeats},
                          {"cases",
                           {bench(examples + "/mnist_csnn.snn", "CSNN", repeats),
                            bench(examples + "/mnist_fc.snn", "FC", repeats)}}};
    std::cout << out.dump(2) << "\n";
  } catch (const std::exception &e) {
    std::cerr << "snnc_bench_train: " << e.what() << "\n";
    return 1;
  }
}
