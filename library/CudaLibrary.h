// CudaLibrary.h — compiles CUDA source written by snnc into a shared library and loads it:
// with nvcc for this machine's GPU, or, when SNNC_CUDA_SHIM=1, with the host C++ compiler
// against runtime/cuda/snnc_cuda_shim.h (grids run as loops on the CPU; how the tests run
// the GPU paths without a GPU). The files live in a temporary directory removed with the
// library; the headers generated code includes are embedded in snnc.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace snnc::driver {

extern const char *const kSnncRtHeader;         ///< runtime/snnc_rt.h
extern const char *const kCudaShimHeader;       ///< runtime/cuda/snnc_cuda_shim.h
extern const char *const kCublasShimHeader;     ///< runtime/cuda/snnc_cublas_shim.h
extern const char *const kLayersHeader;         ///< runtime/nn/Layers.h
extern const char *const kDeviceNetworkHeader;  ///< runtime/cuda/DeviceNetwork.h
extern const char *const kDeviceNetworkSource;  ///< runtime/cuda/DeviceNetwork.cu

/// Removes a temporary file or directory when it goes out of scope, on every path out
/// (errors included).
class RemovedAtExit {
 public:
  explicit RemovedAtExit(std::string path) : path_(std::move(path)) {}
  ~RemovedAtExit();
  RemovedAtExit(const RemovedAtExit &) = delete;
  RemovedAtExit &operator=(const RemovedAtExit &) = delete;

 private:
  std::string path_;
};

/// Whether SNNC_CUDA_SHIM asks for the host shim instead of nvcc and a GPU.
bool cuda_shim_requested();

/// The sources of the device executor (runtime/cuda/DeviceNetwork.cu as device.cu, the
/// headers it includes) with a model's cell kernels as cells.cu: what a GPU training
/// library and a GPU inference binary compile.
std::map<std::string, std::string> device_executor_files(const std::string &cells_source);

/// `s` quoted for the shell.
std::string shell_quote(const std::string &s);

/// A fresh temporary directory holding CUDA sources and the headers they include (name ->
/// text), removed with the object. Throws std::runtime_error when it cannot be written.
class CudaSourceDir {
 public:
  explicit CudaSourceDir(const std::map<std::string, std::string> &files);
  ~CudaSourceDir();
  CudaSourceDir(const CudaSourceDir &) = delete;
  CudaSourceDir &operator=(const CudaSourceDir &) = delete;
  std::string path(const std::string &name) const { return dir_ + "/" + name; }
  const std::string &dir() const { return dir_; }

 private:
  std::string dir_;
};

/// How CUDA sources are compiled here: nvcc (std::runtime_error when there is none) with
/// `nvcc_flags`, or under SNNC_CUDA_SHIM the host C++ compiler against the shim.
struct CudaCompiler {
  std::string name;     ///< "nvcc" or "host shim"
  std::string command;  ///< the start of the command line: compiler and common flags
  bool shim = false;
  /// The CUDA sources, quoted and marked as such (the host compiler needs `-x c++`).
  std::string sources(const std::vector<std::string> &paths) const;
  /// A toolkit library to link (under the shim cuBLAS is OpenBLAS, others are not needed).
  std::string library(const std::string &name) const;
  /// An option for the linker (`-Xlinker` for nvcc, `-Wl,` for the host compiler).
  std::string linker(const std::string &option) const {
    return shim ? " -Wl," + option : " -Xlinker " + option;
  }
};
CudaCompiler cuda_compiler(bool shared_library, const std::string &nvcc_flags);

class CudaLibrary {
 public:
  /// `files`: name -> text, written side by side (headers included); `sources`: the names
  /// to compile and link; `libraries`: e.g. {"cublas"} (linked from the toolkit with nvcc,
  /// mapped to OpenBLAS under the shim). Throws std::runtime_error with the compiler's
  /// output when compiling fails.
  CudaLibrary(const std::map<std::string, std::string> &files,
              const std::vector<std::string> &sources, const std::vector<std::string> &libraries);
  ~CudaLibrary();
  CudaLibrary(const CudaLibrary &) = delete;
  CudaLibrary &operator=(const CudaLibrary &) = delete;

  /// Throws std::runtime_error when the library lacks `name`.
  void *symbol(const std::string &name) const;
  /// Null when the library lacks `name`.
  void *find(const std::string &name) const;
  /// "nvcc" or "host shim".
  const std::string &compiler() const { return compiler_; }
  double compile_seconds() const { return compile_s_; }

 private:
  std::unique_ptr<CudaSourceDir> dir_;
  std::string compiler_;
  void *handle_ = nullptr;
  double compile_s_ = 0;
};

}  // namespace snnc::driver
