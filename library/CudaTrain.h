// CudaTrain.h — `snnc run --target cuda` for experiments: a model's executor on the GPU.
// The CUDA backend prints the model's cell kernels; they are compiled at run time together
// with the device executor (runtime/cuda/DeviceNetwork.cu, embedded in snnc) into one library
// (CudaLibrary: nvcc, or the host shim under SNNC_CUDA_SHIM=1). snnc drives it through
// DeviceNetwork's virtual methods, so snnc itself links no CUDA.
#pragma once
#include <memory>
#include <string>

#include "CudaLibrary.h"
#include "DeviceNetwork.h"
#include "Model.h"
#include "Network.h"

namespace snnc::driver {

class DeviceModel {
 public:
  /// Throws std::runtime_error (compile errors, CUDA errors, unsupported layers).
  DeviceModel(const ir::Model &model, const std::vector<rt::nn::LayerSpec> &layers, int output,
              const std::string &source_name);
  ~DeviceModel();
  rt::cuda::DeviceNetwork &net() { return *net_; }
  const std::string &compiler() const { return library_->compiler(); }
  double compile_seconds() const { return library_->compile_seconds(); }

 private:
  std::unique_ptr<CudaLibrary> library_;  // outlives net_, whose code it holds
  std::unique_ptr<rt::cuda::DeviceNetwork> net_;
};

}  // namespace snnc::driver
