// BuildCommand.h — `snnc build`: a trained experiment model as a standalone executable
// (ahead-of-time LLVM object + the runtime's inference main), with the weights embedded.
#pragma once
#include <string>

#include "AST.h"
#include "Diagnostics.h"

namespace snnc::driver {

struct BuildOptions {
  std::string file, experiment, weights, output;
  std::string target = "native";  ///< CPU: native or an LLVM CPU name
  bool compare = false;           ///< build the `compare` twin
  std::string synapse;  ///< dense, event or auto: every linear/conv layer (empty: the file's)
  double prune = 0;     ///< > 0: zero this fraction of the smallest weights of each hidden linear
                        ///< layer (magnitude pruning) and compute those layers sparse
};

int run_build(const BuildOptions &options, const ast::File &file, DiagnosticEngine &diags);

}  // namespace snnc::driver
