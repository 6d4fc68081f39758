// RunCommand.cpp — compile (frontend, passes, LLVM, JIT), simulate, write outputs.
#include "RunCommand.h"

#include <fmt/format.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Target/TargetMachine.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "CudaSimPrinter.h"
#include "CudaSimRun.h"
#include "Driver.h"
#include "LLVMCodeGen.h"
#include "Optimize.h"
#include "Pass.h"
#include "SimJIT.h"
#include "SimLayout.h"
#include "Simulation.h"

namespace snnc::driver {

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

nlohmann::json summary(const ir::Module &m, const rt::SimSpec &spec, const rt::SimResult &r,
                       const std::string &file, double compile_s, const std::string &out_dir) {
  double sim_time = spec.dt * spec.steps;
  nlohmann::json pops = nlohmann::json::array(), sources = nlohmann::json::array();
  for (size_t g = 0; g < spec.groups.size(); ++g) {
    const auto &grp = spec.groups[g];
    nlohmann::json j = {{"name", grp.name},
                        {"neurons", grp.size},
                        {"spikes", r.spike_counts[g]},
                        {"rate_hz", r.spike_counts[g] / (grp.size * sim_time)}};
    (m.find_population(grp.name) ? pops : sources).push_back(j);
  }
  nlohmann::json outputs = {{"dir", out_dir},
                            {"spikes_csv", out_dir + "/spikes.csv"},
                            {"raster_svg", out_dir + "/raster.svg"}};
  if (!spec.traces.empty()) outputs["traces_csv"] = out_dir + "/traces.csv";
  return {
      {"file", file},
      {"simulation", m.name},
      {"seed", spec.seed},
      {"dt_s", spec.dt},
      {"steps", spec.steps},
      {"simulated_time_s", sim_time},
      {"populations", pops},
      {"poisson_sources", sources},
      {"synapses", r.synapses},
      {"synaptic_events", r.synaptic_events},
      {"wall_time_s",
       {{"compile", compile_s}, {"build_connectivity", r.build_seconds}, {"run", r.run_seconds}}},
      {"outputs", outputs}};
}

void print_progress(int64_t done, int64_t total) {
  int width = 30, filled = static_cast<int>(width * done / std::max<int64_t>(total, 1));
  std::fprintf(stderr, "\r  [%s%s] %3d%% (%lld/%lld steps)", std::string(filled, '#').c_str(),
               std::string(width - filled, '.').c_str(),
               static_cast<int>(100 * done / std::max<int64_t>(total, 1)),
               static_cast<long long>(done), static_cast<long long>(total));
  if (done == total) std::fprintf(stderr, "\n");
}

}  // namespace

int run_simulation(const RunOptions &o) {
  auto t0 = std::chrono::steady_clock::now();
  auto buffer = read_source(o.file);
  if (!buffer) return 1;
  DiagnosticEngine diags(buffer);
  auto module = load_module(*buffer, diags, o.sim);
  if (!module || !ir::run_pipeline(*module, diags, ir::default_pipeline())) return 1;
  try {
    backends::SimLayout layout = backends::make_layout(*module);
    std::map<std::string, double> overrides;
    for (const auto &s : o.sets) {
      auto [name, value] = backends::parse_override(layout, s);
      overrides[name] = value;
    }
    std::vector<double> params = backends::evaluate_params(layout, overrides);
    if (o.seed >= 0) module->seed = static_cast<uint64_t>(o.seed);
    rt::SimSpec spec = backends::make_sim_spec(*module, layout, params);

    auto context = std::make_unique<llvm::LLVMContext>();
    auto llvm_module = backends::generate_llvm(*module, layout, *context);
    auto tm = backends::host_target_machine();
    backends::optimize_module(*llvm_module, *tm);
    backends::SimJIT jit(std::move(llvm_module), std::move(context));
    // --target cuda: set-up and initial values from the JIT on the host, the time loop on
    // the GPU from the CUDA backend's source
    std::unique_ptr<CudaSimulation> cuda;
    rt::SimFunctions functions = jit.functions();
    if (o.target == "cuda") {
      cuda = std::make_unique<CudaSimulation>(
          backends::print_cuda_simulation(*module, layout, o.file), spec);
      functions = cuda->functions(functions, static_cast<int64_t>(params.size()));
    }
    double compile_s = seconds_since(t0);

    bool show = o.progress && !o.quiet && isatty(2) && spec.steps >= 1000;
    rt::SimResult result = rt::simulate(spec, params, functions,
                                        show ? rt::ProgressFn(print_progress) : rt::ProgressFn());
    std::string out_dir = o.out_dir.empty() ? "out/" + module->name : o.out_dir;
    rt::write_sim_outputs(spec, result, out_dir);
    nlohmann::json j = summary(*module, spec, result, o.file, compile_s, out_dir);
    j["target"] = o.target;
    if (cuda) j["cuda_compiler"] = cuda->compiler();
    std::string json_path = o.summary_json.empty() ? out_dir + "/summary.json" : o.summary_json;
    rt::write_file_atomic(json_path, j.dump(2) + "\n");

    if (!o.quiet) {
      double sim_time = spec.dt * spec.steps;
      std::cout << fmt::format(
          "snnc: simulated '{}' for {:g} s ({} steps of {:g} ms) in {:.3f} s "
          "(compile {:.3f} s, connectivity {:.3f} s){}\n",
          module->name, sim_time, spec.steps, spec.dt * 1e3, result.run_seconds, compile_s,
          result.build_seconds,
          !cuda                        ? ""
          : cuda->compiler() == "nvcc" ? " on the GPU (CUDA, nvcc)"
                                       : " on the CPU through the CUDA host shim (SNNC_CUDA_SHIM)");
      for (size_t g = 0; g < spec.groups.size(); ++g)
        std::cout << fmt::format("  {:<12} {:>8} neurons {:>10} spikes {:>9.3f} Hz\n",
                                 spec.groups[g].name, spec.groups[g].size, result.spike_counts[g],
                                 result.spike_counts[g] / (spec.groups[g].size * sim_time));
      if (result.synapses)
        std::cout << fmt::format("  {} synapses, {} synaptic events ({:.1f} M events/s)\n",
                                 result.synapses, result.synaptic_events,
                                 result.synaptic_events / result.run_seconds / 1e6);
      std::cout << "  raster: " << out_dir << "/raster.svg  spikes: " << out_dir << "/spikes.csv";
      if (!spec.traces.empty()) std::cout << "  traces: " << out_dir << "/traces.csv";
      std::cout << "\n  summary: " << json_path << "\n";
    }
    return 0;
  } catch (const std::exception &e) {
    std::cerr << "snnc: error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace snnc::driver
