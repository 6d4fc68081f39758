// The CUDA backend checked without a GPU: the emitted CUDA source of each simulation
// example is compiled with the host compiler against runtime/cuda/snnc_cuda_shim.h (the
// grid runs as a loop, thread after thread) and run in place of the LLVM backend's time
// loop, from the same set-up and initial state. Spikes must be identical.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Target/TargetMachine.h>

#include <filesystem>
#include <fstream>

#include "CudaSimPrinter.h"
#include "Driver.h"
#include "LLVMCodeGen.h"
#include "Optimize.h"
#include "Pass.h"
#include "SimJIT.h"
#include "SimLayout.h"

using namespace snnc;

namespace {

using CudaRun = int (*)(const double *, const double *, const double *, void **, snnc_rt_ctx *,
                        int64_t, int64_t, int32_t *, unsigned long long *, double *);

// the adapter below has the signature of a generated run function, so state is global
CudaRun g_cuda_run = nullptr;
const double *g_host_params = nullptr;
std::vector<int32_t> g_index;
std::vector<double> g_values;
std::vector<unsigned long long> g_counters;

void run_through_cuda(const double *params, const double *derived, void **buffers, snnc_rt_ctx *rt,
                      int64_t first, int64_t count) {
  int err = g_cuda_run(params, g_host_params, derived, buffers, rt, first, count, g_index.data(),
                       g_counters.data(), g_values.data());
  if (err != 0) throw std::runtime_error("snnc_cuda_run failed: " + std::to_string(err));
}

void compare_backends(const std::string &example, int64_t steps) {
  std::string path = std::string(SNNC_SOURCE_DIR) + "/examples/" + example;
  auto buffer = driver::read_source(path);
  ASSERT_TRUE(buffer);
  DiagnosticEngine diags(buffer);
  auto module = driver::load_module(*buffer, diags, "");
  ASSERT_TRUE(module && ir::run_pipeline(*module, diags, ir::default_pipeline()));
  auto layout = backends::make_layout(*module);
  auto params = backends::evaluate_params(layout, {});
  auto spec = backends::make_sim_spec(*module, layout, params);
  spec.steps = steps;

  auto context = std::make_unique<llvm::LLVMContext>();
  auto llvm_module = backends::generate_llvm(*module, layout, *context);
  auto tm = backends::host_target_machine();
  backends::optimize_module(*llvm_module, *tm);
  backends::SimJIT jit(std::move(llvm_module), std::move(context));
  rt::SimResult cpu = rt::simulate(spec, params, jit.functions());

  // a fresh path per example: a library with thread_local state may stay loaded after dlclose
  auto dir = std::filesystem::temp_directory_path() /
             ("snnc_cuda_shim_" + std::to_string(getpid()) + "_" + example);
  std::filesystem::create_directories(dir);
  std::string cu = (dir / "sim.cu").string(), so = (dir / "sim.so").string();
  std::ofstream(cu) << backends::print_cuda_simulation(*module, layout, path);
  std::string cmd =
      "c++ -std=c++17 -O1 -ffp-contract=off -fPIC -shared -DSNNC_CUDA_SHIM -I" SNNC_SOURCE_DIR
      "/runtime -I" SNNC_SOURCE_DIR "/runtime/cuda -x c++ " +
      cu + " -o " + so;
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  void *lib = dlopen(so.c_str(), RTLD_NOW | RTLD_LOCAL);
  ASSERT_TRUE(lib) << dlerror();
  g_cuda_run = reinterpret_cast<CudaRun>(dlsym(lib, "snnc_cuda_run"));
  ASSERT_TRUE(g_cuda_run);
  g_host_params = params.data();
  int64_t largest = 1;
  for (const auto &g : spec.groups) largest = std::max(largest, g.size);
  g_index.assign(largest, 0);
  g_values.assign(largest, 0.0);
  g_counters.assign(spec.groups.size(), 0);
  rt::SimFunctions fns = jit.functions();
  fns.run = run_through_cuda;
  rt::SimResult gpu_shim = rt::simulate(spec, params, fns);
  dlclose(lib);
  std::filesystem::remove_all(dir);

  ASSERT_EQ(cpu.spike_counts, gpu_shim.spike_counts) << example;
  int64_t total = 0;
  for (size_t g = 0; g < cpu.spikes.size(); ++g) {
    EXPECT_EQ(cpu.spikes[g].steps, gpu_shim.spikes[g].steps) << example << " group " << g;
    EXPECT_EQ(cpu.spikes[g].neurons, gpu_shim.spikes[g].neurons) << example << " group " << g;
    total += cpu.spike_counts[g];
  }
  EXPECT_GT(total, 0) << example << ": the comparison needs some spikes";
  ASSERT_EQ(cpu.traces.size(), gpu_shim.traces.size()) << example;
  for (size_t r = 0; r < cpu.traces.size(); ++r) {  // recorded states, step by step
    ASSERT_EQ(cpu.traces[r].size(), gpu_shim.traces[r].size()) << example << " record " << r;
    for (size_t k = 0; k < cpu.traces[r].size(); ++k)
      ASSERT_NEAR(gpu_shim.traces[r][k], cpu.traces[r][k], 1e-9 * (1 + std::abs(cpu.traces[r][k])))
          << example << " record " << r << " value " << k;
  }
}

}  // namespace

TEST(CudaShim, CubaSpikesMatchTheLlvmBackend) {
  compare_backends("cuba.snn", 2000);
}
TEST(CudaShim, LifUnderCurrentMatchesTheLlvmBackend) {
  compare_backends("lif_constant_current.snn", 20000);
}
TEST(CudaShim, HodgkinHuxleyMatchesTheLlvmBackend) {
  compare_backends("hodgkin_huxley.snn", 10000);
}
