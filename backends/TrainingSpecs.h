// TrainingSpecs.h — an experiment's training settings (ir::TrainSpec, names as written in the
// language) as the runtime's specs (loss and encoder kinds). The one place where those names
// become the enums every executor switches on.
#pragma once
#include "Experiment.h"
#include "Inference.h"
#include "Loss.h"

namespace snnc::backends {

rt::nn::LossSpec loss_spec(const ir::TrainSpec &t);
rt::nn::EncoderSpec encoder_spec(const ir::TrainSpec &t);

}  // namespace snnc::backends
