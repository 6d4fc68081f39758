// CudaTarget.h — what `--target cuda` needs on this machine: the CUDA toolkit (nvcc) to
// compile the generated source, and an NVIDIA driver with a GPU to run it. Checked without
// linking CUDA: nvcc is looked up on PATH, $CUDA_HOME/bin and /usr/local/cuda/bin, the driver
// is opened with dlopen.
#pragma once
#include <string>

namespace snnc::driver {

/// The path of nvcc, or "" if there is none.
std::string find_nvcc();

/// Why CUDA code cannot run here (which of toolkit, driver or GPU is missing), or "" when a
/// toolkit and at least one GPU are present.
std::string cuda_unavailable();

}  // namespace snnc::driver
