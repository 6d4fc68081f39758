// The CUDA backend's cell kernels checked without a GPU: the CUDA source `snnc emit --cuda`
// prints for a small CSNN (conv + pool, three kinds of spiking cells with different
// surrogates, one with two states; max and average pooling, padding and stride) and for its
// ReLU twin is compiled with the host compiler
// against runtime/cuda/snnc_cuda_shim.h (each grid runs thread after thread) and its
// launchers replace the LLVM scan kernels in the executor. One training step (forward,
// spike-count and membrane losses, backward) must give the same outputs, loss and parameter
// gradients as the LLVM kernels.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "CudaCellPrinter.h"
#include "DeviceNetwork.h"
#include "Loss.h"
#include "ModelCompiler.h"
#include "ModelFromSource.h"
#include "Network.h"
#include "Parser.h"
#include "Rng.h"
#include "Sema.h"
#include "passes/Autodiff.h"

using namespace snnc;
using namespace snnc::rt::nn;

namespace {

const char *kSource = R"(
neuron Leaky(beta: real = 0.9, threshold: real = 1.0) {
  state mem: real = 0
  update { mem = beta * mem + I - spiked * threshold }
  spike when mem > threshold surrogate fast_sigmoid(slope = 25)
}
neuron ALIF(beta: real = 0.95, rho: real = 0.9, b0: real = 0.2, gamma: real = 1.8) {
  state mem: real = 0
  state a: real = 0
  update { a = rho * a + (1 - rho) * spiked
           mem = beta * mem + (1 - beta) * I - spiked * (b0 + gamma * a) }
  spike when mem > b0 + gamma * a surrogate triangle(width = 0.5)
}
neuron Soft(beta: real = 0.85, threshold: real = 0.4) {
  state mem: real = 0
  update { mem = beta * mem + I - spiked * threshold }
  spike when mem > threshold surrogate arctan(alpha = 2)
}
neuron ReLU { output = max(I, 0) }
neuron Identity { output = I }
network Net {
  input x: [1, 12, 12]
  c = x |> conv2d(4, kernel = 3) |> maxpool(2) |> Leaky(beta = 0.8, threshold = 0.3)
  d = c |> conv2d(6, kernel = 3, padding = 1, stride = 2) |> avgpool(2) |> Leaky(threshold = 0.2)
  h = d |> flatten |> linear(24) |> ALIF
  output y = h |> linear(4) |> Soft
}
network Twin {
  input x: [1, 12, 12]
  c = x |> conv2d(4, kernel = 3) |> maxpool(2) |> ReLU
  d = c |> conv2d(6, kernel = 3, padding = 1, stride = 2) |> avgpool(2) |> ReLU
  h = d |> flatten |> linear(24) |> ReLU
  output y = h |> linear(4) |> Identity
}
)";

using CudaForward = int (*)(const float *, float *, float *, int64_t, int64_t, int64_t, int64_t,
                            int64_t);
using CudaBackward = int (*)(const float *, const float *, const float *, const float *,
                             const float *, float *, float *, int64_t, int64_t, int64_t);

// The executor takes plain function pointers; these adapters call the launcher of slot K
// and record any CUDA error (they run on the executor's threads).
CudaForward g_forward[4];
CudaBackward g_backward[4];
std::atomic<int> g_error{0};

template <int K>
void forward_adapter(const float *I, float *out, float *post, int64_t T, int64_t N, int64_t ld,
                     int64_t out_stride, int64_t post_stride) {
  if (int e = g_forward[K](I, out, post, T, N, ld, out_stride, post_stride)) g_error = e;
}
template <int K>
void backward_adapter(const float *I, const float *out, const float *post, const float *g_out,
                      const float *g_post, float *g_I, float *carry, int64_t T, int64_t N,
                      int64_t ld) {
  if (int e = g_backward[K](I, out, post, g_out, g_post, g_I, carry, T, N, ld)) g_error = e;
}
constexpr CellForward kForwardAdapters[] = {forward_adapter<0>, forward_adapter<1>,
                                            forward_adapter<2>, forward_adapter<3>};
constexpr CellBackward kBackwardAdapters[] = {backward_adapter<0>, backward_adapter<1>,
                                              backward_adapter<2>, backward_adapter<3>};

ir::Model lower(const std::string &network) {
  return test::model_from_source(kSource, network);
}

/// The batch every step of these tests trains on: T = 6 steps of 3 samples, 30 % spikes.
struct Batch {
  static constexpr int64_t T = 6, B = 3;
  std::vector<float> x;
  int32_t labels[B] = {0, 3, 1};
  explicit Batch(int64_t features) : x(T * B * features) {
    rt::Rng rng(3, 1);
    for (float &v : x) v = rng.uniform() < 0.3 ? 1.f : 0.f;
  }
};

/// The host loss of a step's output (spike-count MSE) or output state (membrane MSE).
LossResult batch_loss(const std::vector<float> &out, const std::vector<float> &post, const Batch &b,
                      int64_t K, int64_t S, bool membrane_loss) {
  return membrane_loss ? membrane_mse_loss(post, b.labels, Batch::T, Batch::B, K, S, 1.0, 0.0)
                       : mse_count_loss(out, b.labels, Batch::T, Batch::B, K, 0.8, 0.2);
}

struct Step {
  std::vector<float> out, post;
  double loss = 0;
  std::vector<std::vector<float>> grads;
};

/// One training step; with `cuda_library`, its launchers (symbols prefixed `prefix`) replace
/// the LLVM kernels of the cell layers.
Step train_step(const backends::CompiledModel &compiled, void *cuda_library,
                const std::string &prefix, bool membrane_loss) {
  std::vector<LayerSpec> layers = compiled.layers();
  // a narrow readout as a GEMM, as the device computes it (under auto the CPU sums it row by
  // row from the nonzero inputs: another order of the same sums)
  for (auto &l : layers)
    if (l.kind == LayerSpec::Linear && l.out_features <= 16) l.synapse = Synapse::Dense;
  int slot = 0;
  if (cuda_library)
    for (auto &l : layers) {
      if (l.kind != LayerSpec::Cell) continue;
      const std::string id = prefix + l.name;
      g_forward[slot] =
          reinterpret_cast<CudaForward>(dlsym(cuda_library, ("snnc_cuda_cell_fwd_" + id).c_str()));
      g_backward[slot] =
          reinterpret_cast<CudaBackward>(dlsym(cuda_library, ("snnc_cuda_cell_bwd_" + id).c_str()));
      EXPECT_TRUE(g_forward[slot] && g_backward[slot]) << id;
      l.forward = kForwardAdapters[slot];
      l.backward = kBackwardAdapters[slot];
      ++slot;
    }
  Network net(layers, compiled.output());
  net.init_params(5);
  net.set_training(true, 1);
  const Batch batch(net.features(0));
  Step s;
  s.out = net.forward(batch.x.data(), Batch::T, Batch::B);
  s.post = net.post_state(net.output());
  LossResult r = batch_loss(s.out, s.post, batch, net.features(net.output()),
                            layers[net.output()].states, membrane_loss);
  s.loss = r.loss;
  net.zero_grad();
  net.backward(r.grad.data(), membrane_loss ? r.state_grad.data() : nullptr);
  for (const auto &p : net.params()) s.grads.push_back(p.grad);
  return s;
}

/// Largest difference relative to the tensor's largest magnitude.
double relative_error(const std::vector<float> &a, const std::vector<float> &b) {
  EXPECT_EQ(a.size(), b.size());
  double scale = 1e-12, worst = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    scale = std::max(scale, std::abs(static_cast<double>(b[i])));
    worst = std::max(worst, std::abs(static_cast<double>(a[i]) - b[i]));
  }
  return worst / scale;
}

/// The same step on the device executor (runtime/cuda/DeviceNetwork.cu, built against the
/// shim) with the shim-compiled cell launchers: every op of the step in CUDA form.
Step device_step(const backends::CompiledModel &compiled, void *cuda_library,
                 const std::string &prefix, bool membrane_loss, bool events = false) {
  std::vector<LayerSpec> layers = compiled.layers();
  if (events)  // the event-driven linear and conv kernels instead of cuBLAS
    for (auto &l : layers)
      if (l.kind == LayerSpec::Linear || l.kind == LayerSpec::Conv2d) l.synapse = Synapse::Event;
  std::vector<rt::cuda::DeviceCell> cells(layers.size());
  for (size_t i = 0; i < layers.size(); ++i) {
    if (layers[i].kind != LayerSpec::Cell) continue;
    const std::string id = prefix + layers[i].name;
    cells[i].forward = reinterpret_cast<rt::cuda::DeviceCellForward>(
        dlsym(cuda_library, ("snnc_cuda_cell_fwd_" + id).c_str()));
    cells[i].backward = reinterpret_cast<rt::cuda::DeviceCellBackward>(
        dlsym(cuda_library, ("snnc_cuda_cell_bwd_" + id).c_str()));
  }
  Network host(layers, compiled.output());  // the parameters, initialised as on the CPU
  host.init_params(5);
  rt::cuda::DeviceNetwork device(layers, compiled.output(), cells);
  device.set_params(host.params());
  device.set_training(true);
  const Batch batch(host.features(0));
  Step s;
  s.out = device.forward(batch.x.data(), Batch::T, Batch::B);
  s.post = device.output_state();
  LossResult r = batch_loss(s.out, s.post, batch, host.features(host.output()),
                            layers[host.output()].states, membrane_loss);
  s.loss = r.loss;
  device.zero_grad();
  device.backward(r.grad.data(), membrane_loss ? r.state_grad.data() : nullptr);
  device.get_grads(host.params());
  for (const auto &p : host.params()) s.grads.push_back(p.grad);
  EXPECT_GT(device.device_bytes(), 0u);
  return s;
}

class CudaCells : public ::testing::Test {
 protected:
  void SetUp() override {
    models_ = {lower("Net"), lower("Twin")};
    dir_ = std::filesystem::temp_directory_path() / ("snnc_cuda_cells_" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    const std::string cu = (dir_ / "cells.cu").string(), so = (dir_ / "cells.so").string();
    std::ofstream(cu) << backends::print_cuda_cells({{&models_[0], ""}, {&models_[1], "twin_"}},
                                                    "cells.snn");
    const std::string cmd = std::string("c++") +
                            " -std=c++17 -O1 -ffp-contract=off -fPIC -shared -DSNNC_CUDA_SHIM "
                            "-I" SNNC_SOURCE_DIR "/runtime/cuda -x c++ " +
                            cu + " -o " + so;
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    library_ = dlopen(so.c_str(), RTLD_NOW | RTLD_LOCAL);
    ASSERT_TRUE(library_) << dlerror();
  }
  void TearDown() override {
    if (library_) dlclose(library_);
    std::filesystem::remove_all(dir_);
  }
  std::vector<ir::Model> models_;
  std::filesystem::path dir_;
  void *library_ = nullptr;
};

void expect_same_step(const Step &cuda, const Step &cpu) {
  EXPECT_EQ(g_error.load(), 0);
  double activity = 0;
  for (float v : cpu.out) activity += std::abs(v);
  EXPECT_GT(activity, 0) << "the comparison needs output activity";
  EXPECT_LE(relative_error(cuda.out, cpu.out), 1e-6);
  EXPECT_LE(relative_error(cuda.post, cpu.post), 1e-5);
  EXPECT_NEAR(cuda.loss, cpu.loss, 1e-6 * std::max(1.0, std::abs(cpu.loss)));
  ASSERT_EQ(cuda.grads.size(), cpu.grads.size());
  for (size_t p = 0; p < cpu.grads.size(); ++p)
    EXPECT_LE(relative_error(cuda.grads[p], cpu.grads[p]), 1e-4) << "parameter " << p;
}

TEST_F(CudaCells, SpikingTrainingStepMatchesTheLLVMKernels) {
  backends::CompiledModel compiled(models_[0]);
  for (bool membrane : {false, true}) {
    Step cpu = train_step(compiled, nullptr, "", membrane);
    Step cuda = train_step(compiled, library_, "", membrane);
    SCOPED_TRACE(membrane ? "membrane MSE loss (gradient on the state)" : "spike-count MSE");
    expect_same_step(cuda, cpu);
  }
}

TEST_F(CudaCells, ReLUTwinTrainingStepMatchesTheLLVMKernels) {
  backends::CompiledModel compiled(models_[1]);
  Step cpu = train_step(compiled, nullptr, "", false);
  Step cuda = train_step(compiled, library_, "twin_", false);
  expect_same_step(cuda, cpu);
}

}  // namespace

TEST_F(CudaCells, DeviceExecutorTrainingStepMatchesTheCPU) {
  // conv (im2col + GEMM), pooling, linear layers, bias and cell kernels all in CUDA form
  backends::CompiledModel compiled(models_[0]);
  for (bool membrane : {false, true}) {
    Step cpu = train_step(compiled, nullptr, "", membrane);
    Step device = device_step(compiled, library_, "", membrane);
    SCOPED_TRACE(membrane ? "membrane MSE loss" : "spike-count MSE");
    expect_same_step(device, cpu);
  }
  backends::CompiledModel twin(models_[1]);
  expect_same_step(device_step(twin, library_, "twin_", false),
                   train_step(twin, nullptr, "", false));
  {
    SCOPED_TRACE("event-driven linear and conv layers");
    expect_same_step(device_step(compiled, library_, "", false, true),
                     train_step(compiled, nullptr, "", false));
  }
}

TEST_F(CudaCells, DeviceLossesPredictionsAndCountsMatchTheHost) {
  // the low-traffic path: compact inputs, losses, predictions and activity counts computed on
  // the device give what the host computes from copied-back activations
  backends::CompiledModel compiled(models_[0]);
  const std::vector<LayerSpec> &layers = compiled.layers();
  std::vector<rt::cuda::DeviceCell> cells(layers.size());
  for (size_t i = 0; i < layers.size(); ++i)
    if (layers[i].kind == LayerSpec::Cell) {
      cells[i].forward = reinterpret_cast<rt::cuda::DeviceCellForward>(
          dlsym(library_, ("snnc_cuda_cell_fwd_" + layers[i].name).c_str()));
      cells[i].backward = reinterpret_cast<rt::cuda::DeviceCellBackward>(
          dlsym(library_, ("snnc_cuda_cell_bwd_" + layers[i].name).c_str()));
    }
  Network host(layers, compiled.output());
  host.init_params(5);
  rt::cuda::DeviceNetwork device(layers, compiled.output(), cells);
  device.set_params(host.params());
  const int64_t T = 6, B = 3, F = host.features(0), K = host.features(host.output());
  const int64_t S = layers[host.output()].states;
  std::vector<float> x(T * B * F);
  std::vector<uint8_t> bytes(x.size());
  rt::Rng rng(3, 1);
  for (size_t i = 0; i < x.size(); ++i) bytes[i] = x[i] = rng.uniform() < 0.3 ? 1.f : 0.f;
  const int32_t labels[B] = {2, 0, 1};
  const std::vector<float> out = device.forward(x.data(), T, B), post = device.output_state();
  device.forward_spikes(bytes.data(), T, B);
  EXPECT_EQ(device.activation(host.output()), out);
  using DL = rt::cuda::DeviceNetwork::Loss;
  struct Case {
    DL device;
    LossResult host;
  };
  const Case cases[] = {
      {{DL::MseCount, 0.8, 0.2}, mse_count_loss(out, labels, T, B, K, 0.8, 0.2)},
      {{DL::CrossEntropyCount}, cross_entropy_count_loss(out, labels, T, B, K)},
      {{DL::MembraneCrossEntropy}, membrane_cross_entropy_loss(post, labels, T, B, K, S)},
      {{DL::MembraneMse, 1.0, 0.0}, membrane_mse_loss(post, labels, T, B, K, S, 1.0, 0.0)}};
  for (const Case &c : cases) {
    SCOPED_TRACE(static_cast<int>(c.device.kind));
    auto v = device.loss(labels, c.device);
    EXPECT_NEAR(v.loss, c.host.loss, 1e-9 * std::max(1.0, std::abs(c.host.loss)));
    EXPECT_EQ(v.correct, c.host.correct);
    device.zero_grad();
    device.backward_loss();
    device.get_grads(host.params());
    std::vector<std::vector<float>> on_device;
    for (const auto &p : host.params()) on_device.push_back(p.grad);
    device.zero_grad();
    device.backward(c.host.grad.data(),
                    c.host.state_grad.empty() ? nullptr : c.host.state_grad.data());
    device.get_grads(host.params());
    for (size_t p = 0; p < on_device.size(); ++p)
      EXPECT_LE(relative_error(on_device[p], host.params()[p].grad), 1e-6) << "parameter " << p;
  }
  EXPECT_EQ(device.predict(false), predict_by_count(out, T, B, K));
  EXPECT_EQ(device.predict(true), predict_by_max_membrane(post, T, B, K, S));
  for (size_t i = 0; i < layers.size(); ++i) {  // sums, nonzero and non-binary counts
    const std::vector<float> a = device.activation(static_cast<int>(i));
    double sum = 0;
    int64_t nonzero = 0, non_binary = 0;
    for (float v : a) {
      sum += v;
      nonzero += v != 0.f;
      non_binary += v != 0.f && v != 1.f;
    }
    const auto act = device.activity(static_cast<int>(i));
    EXPECT_NEAR(act.sum, sum, 1e-6 * std::max(1.0, std::abs(sum))) << layers[i].name;
    EXPECT_EQ(act.nonzero, nonzero) << layers[i].name;
    EXPECT_EQ(act.non_binary, non_binary) << layers[i].name;
  }
  // direct input: the images broadcast over the steps
  std::vector<float> images(B * F), repeated(T * B * F);
  for (size_t i = 0; i < images.size(); ++i) images[i] = static_cast<float>(rng.uniform());
  for (int64_t t = 0; t < T; ++t)
    std::copy(images.begin(), images.end(), repeated.begin() + t * B * F);
  const std::vector<float> direct = device.forward(repeated.data(), T, B);
  device.forward_direct(images.data(), T, B);
  EXPECT_EQ(device.activation(host.output()), direct);
}
