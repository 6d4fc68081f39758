// CudaTrain.cpp — compiling and loading a model's device executor.
#include "CudaTrain.h"

#include <stdexcept>

#include "CudaCellPrinter.h"
#include "CudaExpr.h"

namespace snnc::driver {

DeviceModel::DeviceModel(const ir::Model &model, const std::vector<rt::nn::LayerSpec> &layers,
                         int output, const std::string &source_name) {
  const std::string cells = backends::print_cuda_cells({{&model, ""}}, source_name);
  library_ = std::make_unique<CudaLibrary>(device_executor_files(cells),
                                           std::vector<std::string>{"device.cu", "cells.cu"},
                                           std::vector<std::string>{"cublas"});
  std::vector<rt::cuda::DeviceCell> kernels(layers.size());
  for (size_t i = 0; i < layers.size(); ++i) {
    if (layers[i].kind != rt::nn::LayerSpec::Cell) continue;
    const std::string id = backends::cuda_ident(layers[i].name);
    kernels[i].forward =
        reinterpret_cast<rt::cuda::DeviceCellForward>(library_->symbol("snnc_cuda_cell_fwd_" + id));
    kernels[i].backward = reinterpret_cast<rt::cuda::DeviceCellBackward>(
        library_->symbol("snnc_cuda_cell_bwd_" + id));
  }
  using Create =
      rt::cuda::DeviceNetwork *(*)(const std::vector<rt::nn::LayerSpec> *, int,
                                   const std::vector<rt::cuda::DeviceCell> *, std::string *);
  auto create = reinterpret_cast<Create>(library_->symbol("snnc_device_network_create"));
  std::string error;
  net_.reset(create(&layers, output, &kernels, &error));
  if (!net_) throw std::runtime_error(error);
}

DeviceModel::~DeviceModel() {
  net_.reset();  // its code lives in the library
}

}  // namespace snnc::driver
