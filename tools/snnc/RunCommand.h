// RunCommand.h — `snnc run` on a simulation: Program::simulate, outputs and summary.
#pragma once
#include <string>
#include <vector>

#include "snnc/snnc.h"

namespace snnc::driver {

struct RunOptions {
  std::string file;
  std::string sim;                ///< simulation name ("" = first)
  std::vector<std::string> sets;  ///< NAME=VALUE overrides
  std::string out_dir;            ///< rasters and traces ("" = out/<simulation>)
  std::string summary_json;       ///< summary path ("" = <out_dir>/summary.json)
  long long seed = -1;            ///< overrides the simulation's seed when >= 0
  bool quiet = false;
  bool progress = true;
  std::string target = "cpu";  ///< cpu (LLVM JIT) or cuda (nvcc, GPU; see CudaSimRun.h)
};

/// Returns the process exit code.
int run_simulation(const RunOptions &options, const Program &program);

}  // namespace snnc::driver
