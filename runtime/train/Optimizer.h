// Optimizer.h — Adam and SGD with PyTorch's update rules, gradient-norm clipping and
// learning-rate schedules. Optimizer state is keyed by parameter name for checkpoints.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace snnc::rt {

struct ParamRef {
  std::string name;
  float *value;
  float *grad;
  int64_t size;
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  virtual void step(const std::vector<ParamRef> &params) = 0;
  void set_lr(double lr) { lr_ = lr; }
  double lr() const { return lr_; }
  int64_t steps() const { return steps_; }
  virtual std::vector<std::pair<std::string, std::vector<float>>> state() const = 0;
  virtual void load_state(const std::vector<std::pair<std::string, std::vector<float>>> &s) = 0;
  /// Checks state read from a checkpoint before load_state: exactly the entries this
  /// optimizer keeps for `params` (an integral step count >= 0, one buffer per parameter of
  /// its size once a step was taken), all finite. Throws std::runtime_error naming `source`.
  void check_state(const std::vector<std::pair<std::string, std::vector<float>>> &s,
                   const std::vector<ParamRef> &params, const std::string &source) const;

 protected:
  /// The suffixes of the per-parameter buffers (".exp_avg", ...) and whether a "step"
  /// entry is kept.
  virtual std::vector<std::string> buffer_suffixes() const = 0;
  virtual bool keeps_step() const = 0;

  double lr_ = 1e-3;
  int64_t steps_ = 0;
};

std::unique_ptr<Optimizer> make_adam(double lr, double beta1 = 0.9, double beta2 = 0.999,
                                     double eps = 1e-8, double weight_decay = 0);
std::unique_ptr<Optimizer> make_sgd(double lr, double momentum = 0, double weight_decay = 0);

/// Scales all gradients so their global L2 norm is at most max_norm; returns the norm before.
double clip_grad_norm(const std::vector<ParamRef> &params, double max_norm);

/// "constant", "cosine" (to 0 at the end) or "step" (x0.1 every third of the epochs).
double scheduled_lr(const std::string &schedule, double base, int64_t epoch, int64_t epochs);

}  // namespace snnc::rt
