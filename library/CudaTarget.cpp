// CudaTarget.cpp — toolkit and GPU detection for `--target cuda`.
#include "CudaTarget.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <sstream>
#include <vector>

namespace snnc::driver {

std::string find_nvcc() {
  std::vector<std::string> dirs;
  if (const char *path = std::getenv("PATH")) {
    std::stringstream ss(path);
    for (std::string d; std::getline(ss, d, ':');)
      if (!d.empty()) dirs.push_back(d);
  }
  if (const char *home = std::getenv("CUDA_HOME")) dirs.push_back(std::string(home) + "/bin");
  dirs.push_back("/usr/local/cuda/bin");
  for (const auto &d : dirs)
    if (access((d + "/nvcc").c_str(), X_OK) == 0) return d + "/nvcc";
  return "";
}

std::string cuda_unavailable() {
  std::string missing;
  if (find_nvcc().empty())
    missing =
        "the CUDA toolkit is missing (no nvcc on PATH, in $CUDA_HOME/bin or "
        "/usr/local/cuda/bin)";
  void *driver = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  std::string gpu;
  if (!driver) {
    gpu = "no NVIDIA driver (libcuda.so.1 cannot be loaded), so no GPU to run on";
  } else {
    using Init = int (*)(unsigned);
    using Count = int (*)(int *);
    auto init = reinterpret_cast<Init>(dlsym(driver, "cuInit"));
    auto count = reinterpret_cast<Count>(dlsym(driver, "cuDeviceGetCount"));
    int n = 0, err = init ? init(0) : -1;
    if (err != 0)
      gpu = "the NVIDIA driver did not start (cuInit returned " + std::to_string(err) + ")";
    else if (!count || count(&n) != 0 || n == 0)
      gpu = "no CUDA GPU found";
    dlclose(driver);
  }
  if (!missing.empty() && !gpu.empty()) return missing + "; " + gpu;
  return missing.empty() ? gpu : missing;
}

}  // namespace snnc::driver
