// TrainingSpecs.cpp — ir::TrainSpec to the runtime's loss and encoder specs.
#include "TrainingSpecs.h"

namespace snnc::backends {

rt::nn::LossSpec loss_spec(const ir::TrainSpec &t) {
  return {rt::nn::loss_kind(t.loss), t.correct, t.incorrect};
}

rt::nn::EncoderSpec encoder_spec(const ir::TrainSpec &t) {
  return {t.encoder, t.steps};
}

}  // namespace snnc::backends
