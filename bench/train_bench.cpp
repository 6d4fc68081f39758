// train_bench — times training and inference of the MNIST CSNN (examples/mnist_csnn.snn)
// and the FC 784-1000-10 SNN
// on random MNIST-shaped spike input (about 12 % input spikes per step, T = 25), as the
// snnTorch reference was measured: training step at batch 128 (forward, spike-count MSE,
// backward, Adam), inference at batch 128, batch-1 latency. Prints JSON: median, min, max.
//
// usage: snnc_bench_train [--repeats N] [--case csnn|fc|all] [--T N] [--batch N]
//                         [--micro-batch N] [--segment-steps N] [--synapse auto|dense|event]
//                         [--train-only] [--infer-repeats N]
//                         [--sparsity P] [--sgemm] [--event-rate]
// (--sparsity P: every linear layer but the readout keeps a random 1 - P of its connections;
// --event-rate: the event-sum kernel's rate on rows in L2, all threads at once, from which
// bench/run_all.py derives a floor for the event-driven linear layers)
// Peak RSS is per process: bench/run_all.py runs one case per process.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "BlasCore.h"
#include "Aligned.h"
#include "LinearPatterns.h"
#include "Loss.h"
#include "LowerModel.h"
#include "ModelCompiler.h"
#include "Network.h"
#include "Ops.h"
#include "Parallel.h"
#include "Parser.h"
#include "Rng.h"
#include "Sema.h"
#include "TrainStep.h"
#include "passes/Autodiff.h"
#include "ModelPass.h"
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
int64_t g_T = 25, g_B = 128, g_micro_batch = 0, g_segment_steps = 0;
int g_infer_repeats = 0;  ///< 0: as --repeats
double g_sparsity = 0;    ///< --sparsity: of every linear layer but the readout
bool g_train_only = false;

double peak_rss_mib() {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;  // kilobytes on Linux
}

/// Floating-point operations of one dense forward pass over `rows` rows (2 per MAC).
double dense_forward_flops(const rt::nn::Network &net, int64_t rows) {
  double flops = 0;
  for (const auto &l : net.layers()) {
    if (l.kind == rt::nn::LayerSpec::Linear)
      flops += 2.0 * static_cast<double>(net.features(l.input) * l.out_features);
    if (l.kind == rt::nn::LayerSpec::Conv2d) {
      const auto &in = net.layers()[l.input].shape;
      flops += 2.0 * static_cast<double>(in[0] * l.kernel * l.kernel) *
               static_cast<double>(rt::nn::elements(l.shape));
    }
  }
  return flops * static_cast<double>(rows);
}

/// sgemm GFLOP/s of the machine through the same pool and OpenBLAS (n x n x n, row blocks
/// split between threads as in linear layers).
nlohmann::json sgemm_peak(int repeats) {
  const int64_t n = 2048;
  std::vector<float> a(n * n, 0.5f), b(n * n, 0.25f), c(n * n);
  Stats st = time_it(
      repeats, [&] { rt::nn::linear_forward(a.data(), b.data(), c.data(), c.data(), n, n, n); });
  double flops = 2.0 * n * n * n;
  return {{"n", n},
          {"threads", rt::nn::thread_count()},
          {"blas_core", rt::nn::blas_core()},
          {"gflops", flops / st.median / 1e9},
          {"time", to_json(st)}};
}

/// The event-sum kernel (sum_rows, the inner loop of event-driven linear forward and weight
/// gradient passes) on rows resident in L2: every thread sums 96 events at a time, drawn from
/// its own table of 256 rows of 256 floats (64-byte aligned, as the transposed weights),
/// all threads at once, with the kernels of spike events (no values: additions). Returns
/// float additions per second over all threads.
nlohmann::json event_sum_rate(int repeats) {
  const int64_t table_rows = 256, width = 256, per_call = 96, calls = 12000;
  const int threads = rt::nn::thread_count();
  std::vector<rt::nn::AlignedFloats> tables(threads), sums(threads);
  std::vector<std::vector<int32_t>> index(threads);
  for (int k = 0; k < threads; ++k) {
    tables[k].assign(table_rows * width, 1e-3f);
    sums[k].assign(width, 0.f);
    rt::Rng rng(7, static_cast<uint64_t>(k));
    for (int64_t e = 0; e < calls * per_call; ++e)
      index[k].push_back(static_cast<int32_t>(rng.uniform() * table_rows) % table_rows);
  }
  Stats st = time_it(repeats, [&] {
    rt::nn::parallel_for(threads, 1, [&](int64_t k0, int64_t k1) {
      for (int64_t k = k0; k < k1; ++k)
        for (int64_t c = 0; c < calls; ++c)
          rt::nn::sum_rows(index[k].data() + c * per_call, nullptr, per_call, tables[k].data(),
                           width, sums[k].data(), sums[k].data(), width);
    });
  });
  const double adds = static_cast<double>(threads * calls * per_call * width);
  return {{"threads", threads},
          {"adds_per_s", adds / st.median},
          {"bytes_per_s", 4.0 * adds / st.median},
          {"time", to_json(st)}};
}

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
  const int readout = ir::readout_layer(*model);  // --sparsity: every linear but the readout
  for (size_t i = 0; i < model->layers.size(); ++i)
    if (model->layers[i].kind == ir::Layer::Linear && static_cast<int>(i) != readout)
      model->layers[i].sparsity = g_sparsity;
  ir::optimize_model(*model);
  backends::CompiledModel compiled(*model);
  rt::nn::Network net(compiled.layers(), compiled.output());
  net.init_params(1);
  net.force_synapse(g_synapse);
  net.set_segment_steps(g_segment_steps);
  const int64_t T = g_T, B = g_B, F = net.features(0), K = net.features(net.output());
  auto make_input = [&](int64_t B) {
    rt::Rng rng(1, static_cast<uint64_t>(B));
    std::vector<float> x(T * B * F);
    for (float &v : x) v = rng.uniform() < 0.12 ? 1.f : 0.f;
    return x;
  };
  std::vector<float> xB = make_input(B), x1 = make_input(1);
  std::vector<int32_t> labels(B);
  for (int64_t i = 0; i < B; ++i) labels[i] = static_cast<int32_t>(i % 10);
  auto opt = rt::make_adam(2e-3);
  std::vector<rt::ParamRef> refs;
  for (auto &p : net.params())
    refs.push_back({p.name, p.value.data(), p.grad.data(), static_cast<int64_t>(p.value.size())});
  net.set_training(true, 1);  // as snnc run trains (the memory plan recomputes in this mode)
  Stats train = time_it(repeats, [&] {
    rt::nn::train_step(net, xB.data(), labels.data(), T, B, g_micro_batch,
                       [&](const std::vector<float> &out, const int32_t *l, int64_t n) {
                         return rt::nn::mse_count_loss(out, l, T, n, K, 0.8, 0.2);
                       });
    opt->step(refs);
  });
  const double train_buffers_mib = static_cast<double>(net.buffer_bytes()) / (1 << 20);
  // row additions of an event pass of each event-driven linear layer (not a sparse one,
  // whose kernels differ), at the batch's density as training measured it
  std::vector<double> event_adds(net.layers().size(), 0.0);
  for (size_t i = 1; i < net.layers().size(); ++i) {
    const auto &l = net.layers()[i];
    const auto &st = net.synapse_stats()[i];
    if (l.kind == rt::nn::LayerSpec::Linear && !l.compressed && st.event_passes > 0)
      event_adds[i] = st.density * static_cast<double>(T * B) *
                      static_cast<double>(net.features(l.input)) *
                      static_cast<double>(l.out_features);
  }
  // where pattern tables serve such a layer reading the network input (runtime/nn/
  // LinearPatterns.h), the table rows it adds instead: forward, one per group of 4 inputs
  // with a spike in each row; weight gradient, one per input (and the bias) and group of 4
  // rows (in blocks of 256) with a spike
  std::vector<double> table_adds_forward(net.layers().size(), 0.0),
      table_adds_weight_grad(net.layers().size(), 0.0);
  for (size_t i = 1; i < net.layers().size(); ++i) {
    const auto &l = net.layers()[i];
    if (event_adds[i] <= 0 || l.input != 0) continue;
    rt::nn::Events ev;
    rt::nn::count_events(xB.data(), T * B, F, ev);
    rt::nn::fill_events(xB.data(), ev);
    const auto out = static_cast<double>(l.out_features);
    if (rt::nn::use_linear_patterns(ev)) {
      rt::nn::PatternLists lists;
      rt::nn::list_patterns(ev, lists);
      double rows_added = 0;
      for (int32_t c : lists.count) rows_added += c;
      table_adds_forward[i] = rows_added * out;
    }
    if (rt::nn::use_pattern_weight_grad(ev)) {
      double groups = 0;
      for (int64_t r0 = 0; r0 < T * B; r0 += 4) {
        const int64_t r1 = std::min(T * B, r0 + 4);
        groups += 1;  // (the bias: every row)
        for (int64_t f = 0; f < F; ++f)
          for (int64_t r = r0; r < r1; ++r)
            if (xB[r * F + f] != 0.f) {
              groups += 1;
              break;
            }
      }
      table_adds_weight_grad[i] = groups * out;
    }
  }
  const double train_rss_mib = peak_rss_mib();
  net.set_training(false);
  nlohmann::json result = {{"network", network},
                           {"file", file},
                           {"T", T},
                           {"batch", B},
                           {"micro_batch", g_micro_batch},
                           {"segment_steps", g_segment_steps},
                           {"synapse", rt::nn::synapse_name(g_synapse)},
                           {"sparsity", g_sparsity},
                           {"threads", rt::nn::thread_count()},
                           {"train_step", to_json(train)},
                           {"train_buffers_mib", train_buffers_mib},
                           {"peak_rss_mib_after_training", train_rss_mib}};
  if (!g_train_only) {
    // prediction as snnc run evaluates and the standalone binaries classify (nn::predict):
    // forward-only passes, no records for a backward pass
    net.set_forward_only(true);
    net.trim();
    Stats infer = time_it(g_infer_repeats > 0 ? g_infer_repeats : repeats, [&] {
      const auto &out = net.forward(xB.data(), T, B);
      rt::nn::predict_by_count(out, T, B, K);
    });
    Stats latency = time_it(repeats * 5, [&] {
      const auto &out = net.forward(x1.data(), T, 1);
      rt::nn::predict_by_count(out, T, 1, K);
    });
    net.set_forward_only(false);
    const double flops = dense_forward_flops(net, T * B);
    result["inference"] = to_json(infer);
    result["latency_batch1"] = to_json(latency);
    result["dense_forward_gflop"] = flops / 1e9;
    result["inference_effective_gflops"] = flops / infer.median / 1e9;
  }
  nlohmann::json profile = nlohmann::json::object();
  for (size_t i = 1; i < net.layers().size(); ++i) {
    nlohmann::json layer = {{"forward_s", net.forward_seconds()[i]},
                            {"backward_s", net.backward_seconds()[i]}};
    const auto &st = net.synapse_stats()[i];
    if (st.event_passes + st.dense_passes > 0) {
      layer["input_density_last"] = st.density;
      if (event_adds[i] > 0) layer["event_adds_per_pass"] = event_adds[i];
      if (table_adds_forward[i] > 0) layer["table_adds_forward"] = table_adds_forward[i];
      if (table_adds_weight_grad[i] > 0)
        layer["table_adds_weight_grad"] = table_adds_weight_grad[i];
      layer["event_passes"] = st.event_passes;
      layer["dense_passes"] = st.dense_passes;
    }
    profile[net.layers()[i].name] = layer;
  }
  int64_t params = 0;
  for (const auto &p : net.params()) params += static_cast<int64_t>(p.value.size());
  result["parameters"] = params;
  result["profile_all_runs"] = profile;
  // forward-only passes that ran a cell with its synaptic layer, and readouts fed spike bits
  result["fused_passes"] = {{"cells", net.fusion_stats().cells},
                            {"spike_bits", net.fusion_stats().spike_bits},
                            {"conv_bits", net.fusion_stats().conv_bits}};
  result["peak_rss_mib"] = peak_rss_mib();
  return result;
}

}  // namespace

int main(int argc, char **argv) {
  snnc::rt::nn::reexec_for_blas_core(argv);  // before OpenBLAS runs anything: its kernels for this CPU
  int repeats = 5;
  std::string examples = SNNC_SOURCE_DIR "/examples", which = "all";
  bool sgemm = false, event_rate = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << "snnc_bench_train: " << a << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--repeats")
      repeats = std::max(1, std::atoi(value().c_str()));
    else if (a == "--examples")
      examples = value();
    else if (a == "--case")
      which = value();
    else if (a == "--T")
      g_T = std::max(1, std::atoi(value().c_str()));
    else if (a == "--batch")
      g_B = std::max(1, std::atoi(value().c_str()));
    else if (a == "--micro-batch")
      g_micro_batch = std::max(0, std::atoi(value().c_str()));
    else if (a == "--infer-repeats")  // (for profiling inference: --repeats 1 --infer-repeats 50)
      g_infer_repeats = std::max(1, std::atoi(value().c_str()));
    else if (a == "--segment-steps")
      g_segment_steps = std::max(0, std::atoi(value().c_str()));
    else if (a == "--sparsity")
      g_sparsity = std::atof(value().c_str());
    else if (a == "--train-only")
      g_train_only = true;
    else if (a == "--sgemm")
      sgemm = true;
    else if (a == "--event-rate")
      event_rate = true;
    else if (a == "--synapse") {
      try {
        g_synapse = rt::nn::synapse_from_name(value());
      } catch (const std::exception &e) {
        std::cerr << "snnc_bench_train: " << e.what() << "\n";
        return 2;
      }
    } else {
      std::cerr << "usage: snnc_bench_train [--repeats N] [--case csnn|fc|all] [--T N] "
                   "[--batch N] [--micro-batch N] [--segment-steps N] [--infer-repeats N] "
                   "[--synapse auto|dense|event] "
                   "[--train-only] "
                   "[--sparsity P] [--sgemm] [--event-rate]\n";
      return 2;
    }
  }
  try {
    nlohmann::json out = {{"benchmark", "training"}, {"repeats", repeats}};
    if (sgemm) out["sgemm"] = sgemm_peak(repeats);
    if (event_rate) out["event_sum"] = event_sum_rate(repeats);
    nlohmann::json cases = nlohmann::json::array();
    if (which == "all" || which == "csnn")
      cases.push_back(bench(examples + "/mnist_csnn.snn", "CSNN", repeats));
    if (which == "all" || which == "fc")
      cases.push_back(bench(examples + "/mnist_fc.snn", "FC", repeats));
    if ((!sgemm && !event_rate) || which != "all") out["cases"] = cases;
    std::cout << out.dump(2) << "\n";
  } catch (const std::exception &e) {
    std::cerr << "snnc_bench_train: " << e.what() << "\n";
    return 1;
  }
}
