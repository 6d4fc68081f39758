// DeviceNetwork.h — executes a trainable layer network on a CUDA device: the same layers,
// time-major layout [T][B][features] and results as runtime/nn/Network (the CPU executor),
// with activations, states and gradients kept in device memory across the layers of a
// step. Synaptic ops run as cuBLAS GEMMs (convolution as im2col + GEMM over blocks of
// samples), pooling and bias as small kernels, and each cell's recurrence as the kernels the
// CUDA backend generates (backends/cuda/CudaCellPrinter.h), passed in as launchers.
//
// No CUDA headers here: DeviceNetwork.cu is compiled by nvcc where the toolkit exists, and
// with the host compiler against runtime/cuda/snnc_cuda_shim.h and snnc_cublas_shim.h
// (kernels run as loops on the CPU) for the tests. Synaptic ops are dense (cuBLAS) unless
// a linear or conv layer is forced to `synapse = event` (events listed per row on the
// device; each output sums the weights of the events that reach it, and the weight gradient
// comes from the same events); `auto` means dense here, since the crossover measured on the
// CPU does not carry over to a GPU. Dropout in training applies masks the host draws
// (set_dropout_mask), so both executors drop the same units.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "Layers.h"

namespace snnc::rt::cuda {

/// Launchers of a cell's generated kernels (device pointers; return a cudaError_t).
/// (The forward's strides between steps as for nn::CellForward: ld and S*ld, or 0.)
using DeviceCellForward = int (*)(const float *I, float *out, float *post, int64_t T, int64_t N,
                                  int64_t ld, int64_t out_stride, int64_t post_stride);
using DeviceCellBackward = int (*)(const float *I, const float *out, const float *post,
                                   const float *g_out, const float *g_post, float *g_I,
                                   float *carry, int64_t T, int64_t N, int64_t ld);
struct DeviceCell {
  DeviceCellForward forward = nullptr;
  DeviceCellBackward backward = nullptr;
};

}  // namespace snnc::rt::cuda

/// A GPU standalone binary's table of its cells' launchers by cell name: `snnc build --target
/// cuda` generates snnc_model_device_cells (and its count) with the cells' CUDA source, the
/// inference main looks the cells up in it.
extern "C" {
struct snnc_device_cell_entry {
  const char *name;
  snnc::rt::cuda::DeviceCellForward forward;
  snnc::rt::cuda::DeviceCellBackward backward;
};
}

namespace snnc::rt::cuda {

/// Methods are virtual so that a program can drive an executor compiled at run time into a
/// shared library (snnc run --target cuda) without linking it: it obtains one from
/// snnc_device_network_create (below) and calls through the vtable.
class DeviceNetwork {
 public:
  /// `cells[i]`: the launchers of layer i when it is a cell (ignored otherwise). Throws
  /// std::runtime_error on a CUDA failure (with the error's text) or an unsupported layer.
  DeviceNetwork(std::vector<nn::LayerSpec> layers, int output, std::vector<DeviceCell> cells);
  virtual ~DeviceNetwork();
  DeviceNetwork(const DeviceNetwork &) = delete;
  DeviceNetwork &operator=(const DeviceNetwork &) = delete;

  /// Uploads parameter values (in the order and shapes of nn::Network::params()).
  virtual void set_params(const std::vector<nn::Param> &params);
  /// Downloads the accumulated gradients into `params[k].grad`.
  virtual void get_grads(std::vector<nn::Param> &params) const;
  virtual void zero_grad();
  /// Training mode: dropout layers apply the masks given by set_dropout_mask (every dropout
  /// layer needs one before each training forward). Evaluation (the default) treats dropout
  /// as the identity, as the CPU does.
  virtual void set_training(bool on);
  /// keep[k] (0 or 1) for the dropout layer's next forward pass, [T][B][features]; kept
  /// values are scaled by 1/(1-p). Drawn on the host (nn::Network::draw_dropout_keep), so
  /// both executors drop the same units.
  virtual void set_dropout_mask(int layer, const uint8_t *keep, int64_t n);

  /// x: host [T][B][input features]. Returns the output layer's activation (host copy).
  virtual std::vector<float> forward(const float *x, int64_t T, int64_t B);
  /// After forward: a layer's activation [T][B][features] (host copy).
  virtual std::vector<float> activation(int layer) const;
  /// The output cell's states after forward, [T][S][B*K] (host copy).
  virtual std::vector<float> output_state() const;
  /// g_out, g_state (optional): host gradients of the loss w.r.t. the output activation and
  /// the output cell's states. Accumulates parameter gradients on the device.
  virtual void backward(const float *g_out, const float *g_state = nullptr);

  // ---- the same step with little traffic: compact inputs, loss and statistics on the device
  /// A binary (spike) input [T][B][F] as bytes (0 or 1), expanded on the device.
  virtual void forward_spikes(const uint8_t *x, int64_t T, int64_t B);
  /// Direct input: images [B][F], the same at every one of T steps (broadcast on the device).
  virtual void forward_direct(const float *images, int64_t T, int64_t B);
  /// The losses of runtime/nn/Loss.h, computed on the device after forward (labels [B]; on,
  /// off: target rates for mse_count, targets for mse_membrane); their gradient stays there
  /// for backward_loss().
  struct Loss {
    enum Kind { MseCount, CrossEntropyCount, MembraneCrossEntropy, MembraneMse } kind = MseCount;
    double on = 0, off = 0;
  };
  struct LossValue {
    double loss = 0;  ///< mean over the batch, as Loss.h
    int64_t correct = 0;
  };
  virtual LossValue loss(const int32_t *labels, const Loss &loss);
  /// Backward from the gradient the last loss() left on the device.
  virtual void backward_loss();
  /// After forward: predicted class per sample, by spike count or by largest membrane.
  virtual std::vector<int32_t> predict(bool by_membrane);
  /// After forward: a layer's activation summed, its nonzero and its non-binary (not 0 or 1)
  /// values counted on the device (spike rates and synaptic operation counts).
  struct Activity {
    double sum = 0;
    int64_t nonzero = 0, non_binary = 0;
  };
  virtual Activity activity(int layer);
  /// Bytes of device memory held (activations, states, gradients, parameters, scratch).
  virtual size_t device_bytes() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace snnc::rt::cuda

/// Creates an executor (the entry point of a run-time compiled library); on failure returns
/// null and sets *error.
extern "C" snnc::rt::cuda::DeviceNetwork *snnc_device_network_create(
    const std::vector<snnc::rt::nn::LayerSpec> *layers, int output,
    const std::vector<snnc::rt::cuda::DeviceCell> *cells, std::string *error);
