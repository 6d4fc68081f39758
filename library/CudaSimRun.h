// CudaSimRun.h — `snnc run --target cuda` for simulations: compiles the CUDA source the
// backend prints (backends/cuda/CudaSimPrinter) into a shared library with nvcc, loads it,
// and runs the time loop on the GPU while set-up, initial values and connectivity are
// built on the host exactly as for the CPU (so both start from the same state). Spikes
// and recorded states come back through the runtime's C ABI each step.
//
// With the environment variable SNNC_CUDA_SHIM=1 the same source is compiled with the host
// C++ compiler against runtime/cuda/snnc_cuda_shim.h instead (each grid runs as a loop on
// the CPU): how the tests run this whole path on machines without a GPU.
#pragma once
#include <memory>
#include <string>

#include "CudaLibrary.h"
#include "Simulation.h"

namespace snnc::driver {

class CudaSimulation {
 public:
  /// Compiles `source` (throws std::runtime_error with the compiler's output on failure).
  CudaSimulation(const std::string &source, const rt::SimSpec &spec);
  ~CudaSimulation();
  CudaSimulation(const CudaSimulation &) = delete;
  CudaSimulation &operator=(const CudaSimulation &) = delete;

  /// `host`'s set-up and initial values, with the time loop replaced by the device's
  /// (`param_count`: the run-time parameters, copied to the device). Only one
  /// CudaSimulation may run at a time (the runtime calls plain function pointers).
  rt::SimFunctions functions(const rt::SimFunctions &host, int64_t param_count);
  /// "nvcc" or "host shim".
  const std::string &compiler() const { return compiler_; }
  double compile_seconds() const { return compile_s_; }

  struct Impl;  ///< device state (opaque; the time loop adapter reaches it)

 private:
  std::unique_ptr<Impl> impl_;
  std::string compiler_;
  double compile_s_ = 0;
};

}  // namespace snnc::driver
