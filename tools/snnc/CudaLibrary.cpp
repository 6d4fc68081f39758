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

RemovedAtExit::~RemovedAtExit() {
  std::error_code ignored;
  if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
}

bool cuda_shim_requested() {
  const char *v = std::getenv("SNNC_CUDA_SHIM");
  return v && *v && std::string(v) != "0";
}

CudaLibrary::CudaLibrary(const std::map<std::string, std::string> &files,
                         const std::vector<std::string> &sources,
                         const std::vector<std::string> &libraries) {
  auto t0 = std::chrono::steady_clock::now();
  std::string pattern = (std::filesystem::temp_directory_path() / "snnc-cuda-XXXXXX").string();
  if (!mkdtemp(pattern.data()))
    throw std::runtime_error("cannot create a temporary directory under " +
                             std::filesystem::temp_directory_path().string());
  RemovedAtExit cleanup(pattern);  // until the library is loaded
  dir_ = pattern;
  const std::filesystem::path dir(dir_);
  for (const auto &[name, text] : files) {
    std::ofstream out(dir / name);
    out << text;
    if (!out) throw std::runtime_error("cannot write " + (dir / name).string());
  }
  const std::string so = (dir / "library.so").string(), log = (dir / "compile.log").string();
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
    // for this machine's GPU; cudart linked statically, other toolkit libraries found
    // through an rpath to the toolkit
    const std::string lib64 = std::filesystem::path(nvcc).parent_path().parent_path() / "lib64";
    command = shell_quote(nvcc) + " -O3 -std=c++17 -shared -Xcompiler -fPIC -arch=native -L" +
              shell_quote(lib64) + " -Xlinker -rpath," + shell_quote(lib64);
  }
  command += " -I" + shell_quote(dir_);
  for (const auto &s : sources) command += " " + shell_quote((dir / s).string());
  for (const auto &l : libraries)
    command += cuda_shim_requested() ? (l == "cublas" ? " -lopenblas" : "") : " -l" + l;
  command += " -o " + shell_quote(so) + " > " + shell_quote(log) + " 2>&1";
  if (std::system(command.c_str()) != 0)
    throw std::runtime_error("compiling the generated CUDA source with " + compiler_ +
                             " failed:\n" + read_text(log));
  handle_ = dlopen(so.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle_)
    throw std::runtime_error(std::string("cannot load the compiled CUDA library: ") + dlerror());
  compile_s_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  cleanup.keep();  // the destructor removes it with the library
}

CudaLibrary::~CudaLibrary() {
  if (handle_) dlclose(handle_);
  std::error_code ignored;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
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
