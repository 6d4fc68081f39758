// Trainer.h — the training loop behind Program::train: loads the data set, trains the
// experiment's network and its twin epoch by epoch, evaluates, commits checkpoints
// (runtime/train/Checkpoint.h), resumes, and writes the summary, results and report.
#pragma once
#include "ProgramImpl.h"

namespace snnc::driver {

/// Throws CompileError (the experiment does not lower) or std::runtime_error.
TrainResult train_experiment(const Program::Impl &program, const TrainOptions &options);

}  // namespace snnc::driver
