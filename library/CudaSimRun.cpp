// CudaSimRun.cpp — compiling, loading and running a simulation's CUDA source.
#include "CudaSimRun.h"

#include <stdexcept>

namespace snnc::driver {

namespace {

using RunFn = int (*)(const double *, const double *, const double *, void **, snnc_rt_ctx *,
                      int64_t, int64_t, int32_t *, unsigned long long *, double *);
using MallocFn = int (*)(void **, int64_t);
using UploadFn = int (*)(void *, const void *, int64_t);
using FreeFn = int (*)(void *);
using ErrorFn = const char *(*)(int);

}  // namespace

struct CudaSimulation::Impl {
  const rt::SimSpec &spec;
  std::unique_ptr<CudaLibrary> library;
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
      bytes[i] = spec.buffers[i].count * static_cast<int64_t>(rt::elem_size(spec.buffers[i].type));
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
  impl_->library = std::make_unique<CudaLibrary>(
      std::map<std::string, std::string>{
          {"sim.cu", source}, {"snnc_rt.h", kSnncRtHeader}, {"snnc_cuda_shim.h", kCudaShimHeader}},
      std::vector<std::string>{"sim.cu"}, std::vector<std::string>{});
  compiler_ = impl_->library->compiler();
  compile_s_ = impl_->library->compile_seconds();
  auto symbol = [&](const char *name) { return impl_->library->symbol(name); };
  impl_->run = reinterpret_cast<RunFn>(symbol("snnc_cuda_run"));
  impl_->device_malloc = reinterpret_cast<MallocFn>(symbol("snnc_cuda_malloc"));
  impl_->upload = reinterpret_cast<UploadFn>(symbol("snnc_cuda_upload"));
  impl_->device_free = reinterpret_cast<FreeFn>(symbol("snnc_cuda_free"));
  impl_->error_text = reinterpret_cast<ErrorFn>(symbol("snnc_cuda_error"));
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
