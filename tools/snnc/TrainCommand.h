// TrainCommand.h — `snnc run` on an `experiment`: Program::train (library/Trainer) with its
// lines printed and, on a terminal, a progress bar.
#pragma once
#include <string>

#include "snnc/snnc.h"

namespace snnc::driver {

struct TrainCommandOptions {
  snnc::TrainOptions train;
  bool quiet = false, progress = true;
};

/// Returns the process exit code.
int run_experiment(const Program &program, const TrainCommandOptions &options);

}  // namespace snnc::driver
