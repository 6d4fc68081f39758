// CudaSimRun.cpp — compiling, loading and running a simulation's CUDA source.
#include "CudaSimRun.h"

#include <dlfcn.h>
#include <stdlib.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "CudaTarget.h"

namespace snnc::driver {

namespace {

using RunFn = int (*)(const double *, const double *, const double *, void **, snnc_rt_ctx *,
                      int64_t, int64_t, int32_t *, unsigned long long *, double *);
using MallocFn = int (*)(void **, int64_t);
using UploadFn = int (*)(void *, const void *, int64_t);
using FreeFn = int (*)(void *);
using ErrorFn = const char *(*)(int);

int64_t element_bytes(rt::ElemType t) {
  switch (t) {
    case rt::ElemType::F64:
    case rt::ElemType::I64:
      return 8;
    case rt::ElemType::I32:
      return 4;
    default:
      return 1;
  }
}

std::string shell_quote(const std::string &s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string read_text(const std::string &path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

bool cuda_shim_requested() {
  const char *v = std::getenv("SNNC_CUDA_SHIM");
  return v && *v && std::string(v) != "0";
}

struct CudaSimulation::Impl {
  const rt::SimSpec &spec;
  std::filesystem::path dir;
  void *library = nullptr;
  RunFn run = nullptr;
  MallocFn device_malloc = nullptr;
  UploadFn upload = nullptr;
  FreeFn device_free = nullptr;
  ErrorFn error_text = nullptr;
  std::vector<void *> device;  ///< per buffer slot
  void *params = nullptr, *derived = nullptr, *counters = nullptr;
  std::vector<int32_t> host_index;
  std::vector<double> host_values;
  bool ready = false;

  explicit Impl(const rt::SimSpec &s) : spec(s) {}
  ~Impl() {
    if (device_free) {
      for (void *p : device) device_free(p);
      device_free(params);
      device_free(derived);
      device_free(counters);
    }
    if (library) dlclose(library);
    std::error_code ignored;
    if (!dir.empty()) std::filesystem::remove_all(dir, ignored);
  }

  void check(int err, const std::string &what) const {
    if (err != 0)
      throw std::runtime_error("CUDA " + what + " failed: " + error_text(err) + " (error " +
                               std::to_string(err) + ")");
  }

  void *copy_to_device(const void *host, int64_t bytes, const std::string &what) {
    void *p = nullptr;
    check(device_malloc(&p, bytes), "allocation of " + what);
    check(upload(p, host, bytes), "copy of " + what + " to the device");
    return p;
  }

  /// Before the first step: every buffer (initial state, connectivity), the parameters and
  /// the derived quantities go to the device.
  void start(const double *host_params, const double *host_derived, void **buffers,
             int64_t params_count) {
    std::vector<int64_t> bytes(spec.buffers.size());
    for (size_t i = 0; i < spec.buffers.size(); ++i)
      bytes[i] = spec.buffers[i].count * element_bytes(spec.buffers[i].type);
    for (const auto &c : spec.connections) {  // CSR sizes are known only once built
      const int64_t nnz = static_cast<const int64_t *>(buffers[c.row_ptr_buffer])[c.n_pre];
      bytes[c.row_ptr_buffer] = (c.n_pre + 1) * 8;
      bytes[c.col_buffer] = nnz * 4;
      if (c.weight_buffer >= 0) bytes[c.weight_buffer] = nnz * 8;
    }
    device.assign(spec.buffers.size(), nullptr);
    for (size_t i = 0; i < spec.buffers.size(); ++i)
      device[i] = copy_to_device(buffers[i], bytes[i], "buffer '" + spec.buffers[i].name + "'");
    params = copy_to_device(host_params, params_count * 8, "parameters");
    derived = copy_to_device(host_derived, std::max<int64_t>(spec.derived_count, 1) * 8,
                             "derived quantities");
    std::vector<unsigned long long> zeros(std::max<size_t>(spec.groups.size(), 1), 0);
    counters = copy_to_device(zeros.data(), static_cast<int64_t>(zeros.size() * 8), "counters");
    int64_t largest = 1;
    for (const auto &g : spec.groups) largest = std::max(largest, g.size);
    host_index.assign(largest, 0);
    host_values.assign(largest, 0.0);
    ready = true;
  }
};

namespace {
CudaSimulation::Impl *g_active = nullptr;
int64_t g_params_count = 0;

void run_on_device(const double *params, const double *derived, void **buffers, snnc_rt_ctx *rt,
                   int64_t first, int64_t count) {
  CudaSimulation::Impl &s = *g_active;
  if (!s.ready) s.start(params, derived, buffers, g_params_count);
  s.check(
      s.run(static_cast<const double *>(s.params), params, static_cast<const double *>(s.derived),
            s.device.data(), rt, first, count, s.host_index.data(),
            static_cast<unsigned long long *>(s.counters), s.host_values.data()),
      "time loop (steps " + std::to_string(first) + " to " + std::to_string(first + count) + ")");
}
}  // namespace

CudaSimulation::CudaSimulation(const std::string &source, const rt::SimSpec &spec)
    : impl_(std::make_unique<Impl>(spec)) {
  auto t0 = std::chrono::steady_clock::now();
  std::string pattern = (std::filesystem::temp_directory_path() / "snnc-cuda-XXXXXX").string();
  if (!mkdtemp(pattern.data()))
    throw std::runtime_error("cannot create a temporary directory under " +
                             std::filesystem::temp_directory_path().string());
  impl_->dir = pattern;
  const std::filesystem::path cu = impl_->dir / "sim.cu", so = impl_->dir / "sim.so",
                              log = impl_->dir / "compile.log";
  std::ofstream(impl_->dir / "snnc_rt.h") << kSnncRtHeader;
  std::ofstream(impl_->dir / "snnc_cuda_shim.h") << kCudaShimHeader;
  std::ofstream(cu) << source;
  std::string command;
  if (cuda_shim_requested()) {
    compiler_ = "host shim";
    const char *cxx = std::getenv("CXX");
    command = std::string(cxx && *cxx ? cxx : "c++") +
              " -std=c++17 -O2 -fPIC -shared -DSNNC_CUDA_SHIM -x c++";
  } else {
    compiler_ = "nvcc";
    const std::string nvcc = find_nvcc();
    if (nvcc.empty()) throw std::runtime_error("the CUDA toolkit is missing (no nvcc)");
    // the GPU of this machine; cudart linked statically, so the library needs no CUDA paths
    command = shell_quote(nvcc) + " -O3 -std=c++17 -shared -Xcompiler -fPIC -arch=native";
  }
  command += " -I" + shell_quote(impl_->dir.string()) + " " + shell_quote(cu.string()) + " -o " +
             shell_quote(so.string()) + " > " + shell_quote(log.string()) + " 2>&1";
  if (std::system(command.c_str()) != 0)
    throw std::runtime_error("compiling the generated CUDA source with " + compiler_ +
                             " failed:\n" + read_text(log.string()));
  impl_->library = dlopen(so.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!impl_->library)
    throw std::runtime_error(std::string("cannot load the compiled simulation: ") + dlerror());
  auto symbol = [&](const char *name) {
    void *p = dlsym(impl_->library, name);
    if (!p) throw std::runtime_error(std::string("the compiled simulation lacks ") + name);
    return p;
  };
  impl_->run = reinterpret_cast<RunFn>(symbol("snnc_cuda_run"));
  impl_->device_malloc = reinterpret_cast<MallocFn>(symbol("snnc_cuda_malloc"));
  impl_->upload = reinterpret_cast<UploadFn>(symbol("snnc_cuda_upload"));
  impl_->device_free = reinterpret_cast<FreeFn>(symbol("snnc_cuda_free"));
  impl_->error_text = reinterpret_cast<ErrorFn>(symbol("snnc_cuda_error"));
  compile_s_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

CudaSimulation::~CudaSimulation() {
  if (g_active == impl_.get()) g_active = nullptr;
}

rt::SimFunctions CudaSimulation::functions(const rt::SimFunctions &host, int64_t param_count) {
  g_active = impl_.get();
  g_params_count = param_count;
  rt::SimFunctions f = host;
  f.run = run_on_device;
  return f;
}

}  // namespace snnc::driver
