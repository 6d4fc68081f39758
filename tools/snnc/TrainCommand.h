// TrainCommand.h — `snnc run` on an `experiment`: trains the model (and its twin) on the
// data set, evaluates on the test set each epoch, writes checkpoints and the summary.
#pragma once
#include <string>

#include "AST.h"
#include "Diagnostics.h"

namespace snnc::driver {

struct TrainOptions {
  std::string file, experiment;
  std::string data_dir;                       ///< overrides the experiment's data directory
  std::string out_dir;                        ///< "" = out/<experiment>
  std::string summary_json;                   ///< "" = <out>/summary.json
  int64_t epochs = 0;                         ///< 0 = the experiment's
  int64_t train_limit = -1, test_limit = -1;  ///< -1 = the experiment's (0 there = all)
  long long seed = -1;
  bool no_compare = false;
  std::string resume_dir;  ///< continue the run saved in this directory
  bool force = false;      ///< resume even where the settings differ from the run's (recorded)
  bool quiet = false, progress = true;
  std::string synapse;        ///< "" = as planned; auto, dense or event for every linear/conv layer
  int64_t micro_batch = 0;    ///< > 0: forward/backward this many samples at a time
  int64_t segment_steps = 0;  ///< > 0: BPTT over segments of this many steps (recomputed)
  std::string target = "cpu";  ///< cpu, or cuda (the device executor, CudaTrain.h)
  double prune = 0;            ///< > 0: magnitude-prune hidden linear layers during training
  int64_t prune_after = -1;    ///< ... after this many epochs (-1: half of them)
};

/// Returns the process exit code.
int run_experiment(const TrainOptions &options, const ast::File &file, DiagnosticEngine &diags);

}  // namespace snnc::driver
