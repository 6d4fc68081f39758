// CudaLibrary.cpp — writing, compiling and loading run-time CUDA libraries.
#include "CudaLibrary.h"

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

std::string read_text(const std::string &path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::map<std::string, std::string> device_executor_files(const std::string &cells_source) {
  return {{"cells.cu", cells_source},
          {"device.cu", kDeviceNetworkSource},
          {"DeviceNetwork.h", kDeviceNetworkHeader},
          {"Layers.h", kLayersHeader},
          {"snnc_cuda_shim.h", kCudaShimHeader},
          {"snnc_cublas_shim.h", kCublasShimHeader}};
}

std::string shell_quote(const std::string &s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

RemovedAtExit::~RemovedAtExit() {
  std::error_code ignored;
  if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
}

bool cuda_shim_requested() {
  const char *v = std::getenv("SNNC_CUDA_SHIM");
  return v && *v && std::string(v) != "0";
}

CudaSourceDir::CudaSourceDir(const std::map<std::string, std::string> &files) {
  std::string pattern = (std::filesystem::temp_directory_path() / "snnc-cuda-XXXXXX").string();
  if (!mkdtemp(pattern.data()))
    throw std::runtime_error("cannot create a temporary directory under " +
                             std::filesystem::temp_directory_path().string());
  dir_ = pattern;
  for (const auto &[name, text] : files) {
    std::ofstream out(path(name));
    out << text;
    if (!out) {
      std::error_code ignored;
      std::filesystem::remove_all(dir_, ignored);
      throw std::runtime_error("cannot write " + path(name));
    }
  }
}

CudaSourceDir::~CudaSourceDir() {
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string CudaCompiler::sources(const std::vector<std::string> &paths) const {
  std::string s = shim ? " -x c++" : "";
  for (const auto &p : paths) s += " " + shell_quote(p);
  return s + (shim ? " -x none" : "");
}

std::string CudaCompiler::library(const std::string &lib) const {
  if (!shim) return " -l" + lib;
  return lib == "cublas" ? " -lopenblas" : "";
}

CudaCompiler cuda_compiler(bool shared_library, const std::string &nvcc_flags) {
  CudaCompiler c;
  if (cuda_shim_requested()) {
    const char *cxx = std::getenv("CXX");
    c.name = "host shim";
    c.shim = true;
    c.command = std::string(cxx && *cxx ? cxx : "c++") + " -std=c++17 -O2 -DSNNC_CUDA_SHIM" +
                (shared_library ? " -fPIC -shared" : "");
    return c;
  }
  const std::string nvcc = find_nvcc();
  if (nvcc.empty())
    throw std::runtime_error(
        "the CUDA toolkit is missing (no nvcc on PATH, in $CUDA_HOME/bin or /usr/local/cuda/bin)");
  // cudart linked statically; other toolkit libraries found through an rpath to the toolkit
  const std::string lib64 = std::filesystem::path(nvcc).parent_path().parent_path() / "lib64";
  c.name = "nvcc";
  c.command = shell_quote(nvcc) + " -O3 -std=c++17" +
              (shared_library ? " -shared -Xcompiler -fPIC" : "") + " " + nvcc_flags + " -L" +
              shell_quote(lib64) + c.linker("-rpath," + shell_quote(lib64));
  return c;
}

CudaLibrary::CudaLibrary(const std::map<std::string, std::string> &files,
                         const std::vector<std::string> &sources,
                         const std::vector<std::string> &libraries) {
  auto t0 = std::chrono::steady_clock::now();
  dir_ = std::make_unique<CudaSourceDir>(files);
  const CudaCompiler cc = cuda_compiler(true, "-arch=native");  // this machine's GPU
  compiler_ = cc.name;
  const std::string so = dir_->path("library.so"), log = dir_->path("compile.log");
  std::vector<std::string> paths;
  for (const auto &s : sources) paths.push_back(dir_->path(s));
  std::string command = cc.command + " -I" + shell_quote(dir_->dir()) + cc.sources(paths);
  for (const auto &l : libraries) command += cc.library(l);
  command += " -o " + shell_quote(so) + " > " + shell_quote(log) + " 2>&1";
  if (std::system(command.c_str()) != 0)
    throw std::runtime_error("compiling the generated CUDA source with " + compiler_ +
                             " failed:\n" + read_text(log));
  handle_ = dlopen(so.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle_)
    throw std::runtime_error(std::string("cannot load the compiled CUDA library: ") + dlerror());
  compile_s_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

CudaLibrary::~CudaLibrary() {
  if (handle_) dlclose(handle_);  // before the directory goes
}

void *CudaLibrary::find(const std::string &name) const {
  return dlsym(handle_, name.c_str());
}

void *CudaLibrary::symbol(const std::string &name) const {
  void *p = find(name);
  if (!p) throw std::runtime_error("the compiled CUDA library lacks " + name);
  return p;
}

}  // namespace snnc::driver
