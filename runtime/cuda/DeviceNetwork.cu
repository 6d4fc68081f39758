// DeviceNetwork.cu — the device executor's kernels and host orchestration (see
// DeviceNetwork.h). Compiled by nvcc, or as C++ with -DSNNC_CUDA_SHIM for the tests.
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "DeviceNetwork.h"

#ifdef SNNC_CUDA_SHIM
#include "snnc_cublas_shim.h"
#include "snnc_cuda_shim.h"
#else
#include <cublas_v2.h>
#include <cuda_runtime.h>
#define SNNC_LAUNCH(kernel, blocks, threads, ...) kernel<<<(blocks), (threads)>>>(__VA_ARGS__)
#endif

namespace snnc::rt::cuda {

namespace {

constexpr int kThreads = 256;
constexpr int64_t kRowChunk = 64;  ///< samples per im2col block

int64_t blocks_for(int64_t n) {
  return (n + kThreads - 1) / kThreads;
}

void check(cudaError_t err, const char *what) {
  if (err != cudaSuccess)
    throw std::runtime_error(std::string("CUDA: ") + what + ": " + cudaGetErrorString(err));
}
void check_launch(const char *what) {
  check(cudaGetLastError(), what);
}
void check_blas(cublasStatus_t status, const char *what) {
  if (status != CUBLAS_STATUS_SUCCESS)
    throw std::runtime_error(std::string("cuBLAS: ") + what + " failed (status " +
                             std::to_string(static_cast<int>(status)) + ")");
}

/// A device array that grows on demand and is freed with its owner.
template <typename T>
struct DeviceArray {
  T *data = nullptr;
  size_t size = 0, capacity = 0;
  DeviceArray() = default;
  DeviceArray(const DeviceArray &) = delete;
  DeviceArray &operator=(const DeviceArray &) = delete;
  ~DeviceArray() {
    if (data) cudaFree(data);
  }
  void resize(size_t n) {
    if (n > capacity) {
      if (data) check(cudaFree(data), "free");
      data = nullptr;
      void *p = nullptr;
      check(cudaMalloc(&p, n * sizeof(T)), "allocation");
      data = static_cast<T *>(p);
      capacity = n;
    }
    size = n;
  }
  void zero() {
    if (size) check(cudaMemset(data, 0, size * sizeof(T)), "memset");
  }
  void upload(const T *host, size_t n) {
    resize(n);
    if (n) check(cudaMemcpy(data, host, n * sizeof(T), cudaMemcpyHostToDevice), "upload");
  }
  std::vector<T> download() const {
    std::vector<T> host(size);
    if (size)
      check(cudaMemcpy(host.data(), data, size * sizeof(T), cudaMemcpyDeviceToHost), "download");
    return host;
  }
};

// ---- kernels (one thread per output element unless noted) ----

__global__ void add_bias_rows(float *y, const float *b, int64_t rows, int64_t out) {
  const int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  if (i < rows * out) y[i] += b[i % out];
}

/// one thread per bias: g_b[o] += sum over k < n, in order, of g[o*o_stride + k*k_stride]
/// (a linear layer's rows: strides 1 and out; a conv block's G: N and 1)
__global__ void bias_grad(const float *g, float *g_b, int64_t outputs, int64_t n, int64_t o_stride,
                          int64_t k_stride) {
  const int64_t o = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  if (o >= outputs) return;
  float s = 0.f;
  for (int64_t k = 0; k < n; ++k) s += g[o * o_stride + k * k_stride];
  g_b[o] += s;
}

__global__ void axpy(float *y, const float *x, int64_t n) {
  const int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  if (i < n) y[i] += x[i];
}

struct ConvShape {
  int64_t C, H, W, Cout, K, S, P, OH, OW;
};

/// cols[(c*K + ky)*K + kx][j*OH*OW + oy*OW + ox] for samples j of the block
__global__ void im2col(const float *x, float *cols, int64_t n, ConvShape g) {
  const int64_t hw = g.OH * g.OW, N = n * hw;
  const int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  if (i >= g.C * g.K * g.K * N) return;
  const int64_t tap = i / N, col = i % N, j = col / hw, p = col % hw;
  const int64_t c = tap / (g.K * g.K), ky = tap / g.K % g.K, kx = tap % g.K;
  const int64_t iy = p / g.OW * g.S - g.P + ky, ix = p % g.OW * g.S - g.P + kx;
  cols[i] =
      iy >= 0 && iy < g.H && ix >= 0 && ix < g.W ? x[((j * g.C + c) * g.H + iy) * g.W + ix] : 0.f;
}

/// y[j][o][p] = out[o][j*hw + p] + b[o]
__global__ void scatter_conv_output(const float *out, const float *b, float *y, int64_t n,
                                    int64_t Cout, int64_t hw) {
  const int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  if (i >= n * Cout * hw) return;
  const int64_t j = i / (Cout * hw), o = i / hw % Cout, p = i % hw;
  y[i] = out[o * n * hw + j * hw + p] + b[o];
}

/// G[o][j*hw + p] = g_y[j][o][p]
__global__ void gather_conv_grad(const float *g_y, float *G, int64_t n, int64_t Cout, int64_t hw) {
  const int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  if (i >= n * Cout * hw) return;
  const int64_t j = i / (Cout * hw), o = i / hw % Cout, p = i % hw;
  G[o * n * hw + j * hw + p] = g_y[i];
}

/// one thread per input element of the block: g_x += the column entries that read it
__global__ void col2im(const float *cols, float *g_x, int64_t n, ConvShape g) {
  const int64_t hw = g.OH * g.OW, N = n * hw;
  const int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  if (i >= n * g.C * g.H * g.W) return;
  const int64_t j = i / (g.C * g.H * g.W), c = i / (g.H * g.W) % g.C, y = i / g.W % g.H,
                x = i % g.W;
  float s = 0.f;
  for (int64_t ky = 0; ky < g.K; ++ky)
    for (int64_t kx = 0; kx < g.K; ++kx) {
      const int64_t ty = y + g.P - ky, tx = x + g.P - kx;
      if (ty < 0 || tx < 0 || ty % g.S || tx % g.S) continue;
      const int64_t oy = ty / g.S, ox = tx / g.S;
      if (oy >= g.OH || ox >= g.OW) continue;
      s += cols[((c * g.K + ky) * g.K + kx) * N + j * hw + oy * g.OW + ox];
    }
  g_x[i] += s;
}

struct PoolShape {
  int64_t C, H, W, K, S, P, OH, OW;
};

/// the first maximum in window order, as the CPU executor; argmax indexes the sample's input
__global__ void maxpool_forward(const float *x, float *y, int32_t *argmax, int64_t rows,
                                PoolShape g) {
  const int64_t out = g.C * g.OH * g.OW;
  const int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  if (i >= rows * out) return;
  const int64_t r = i / out, c = i / (g.OH * g.OW) % g.C, oy = i / g.OW % g.OH, ox = i % g.OW;
  const float *xs = x + r * g.C * g.H * g.W;
  float best = -INFINITY;
  int32_t where = -1;
  for (int64_t ky = 0; ky < g.K; ++ky)
    for (int64_t kx = 0; kx < g.K; ++kx) {
      const int64_t iy = oy * g.S - g.P + ky, ix = ox * g.S - g.P + kx;
      if (iy < 0 || iy >= g.H || ix < 0 || ix >= g.W) continue;
      const int32_t at = (int32_t)((c * g.H + iy) * g.W + ix);
      if (xs[at] > best) best = xs[at], where = at;
    }
  y[i] = best;
  if (argmax) argmax[i] = where;
}

__global__ void maxpool_backward(const float *g_y, float *g_x, const int32_t *argmax, int64_t rows,
                                 int64_t out, int64_t in) {
  const int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  if (i >= rows * out || argmax[i] < 0) return;
  atomicAdd(&g_x[i / out * in + argmax[i]], g_y[i]);
}

__global__ void avgpool_forward(const float *x, float *y, int64_t rows, PoolShape g) {
  const int64_t out = g.C * g.OH * g.OW;
  const int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  if (i >= rows * out) return;
  const int64_t r = i / out, c = i / (g.OH * g.OW) % g.C, oy = i / g.OW % g.OH, ox = i % g.OW;
  float s = 0.f;
  for (int64_t ky = 0; ky < g.K; ++ky)
    for (int64_t kx = 0; kx < g.K; ++kx) {
      const int64_t iy = oy * g.S - g.P + ky, ix = ox * g.S - g.P + kx;
      if (iy >= 0 && iy < g.H && ix >= 0 && ix < g.W) s += x[((r * g.C + c) * g.H + iy) * g.W + ix];
    }
  y[i] = s * (1.f / (float)(g.K * g.K));
}

__global__ void avgpool_backward(const float *g_y, float *g_x, int64_t rows, PoolShape g) {
  const int64_t out = g.C * g.OH * g.OW;
  const int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  if (i >= rows * out) return;
  const int64_t r = i / out, c = i / (g.OH * g.OW) % g.C, oy = i / g.OW % g.OH, ox = i % g.OW;
  const float v = g_y[i] * (1.f / (float)(g.K * g.K));
  for (int64_t ky = 0; ky < g.K; ++ky)
    for (int64_t kx = 0; kx < g.K; ++kx) {
      const int64_t iy = oy * g.S - g.P + ky, ix = ox * g.S - g.P + kx;
      if (iy >= 0 && iy < g.H && ix >= 0 && ix < g.W)
        atomicAdd(&g_x[((r * g.C + c) * g.H + iy) * g.W + ix], v);
    }
}

// ---- event-driven linear layers (a layer forced to `synapse = event`) ----

/// one thread per row: the row's nonzero inputs in order, at idx/val[r*in ...], count[r]
__global__ void list_events(const float *x, int32_t *idx, float *val, int32_t *count, int64_t rows,
                            int64_t in) {
  const int64_t r = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  if (r >= rows) return;
  int32_t n = 0;
  for (int64_t i = 0; i < in; ++i) {
    const float v = x[r * in + i];
    if (v != 0.f) {
      idx[r * in + n] = (int32_t)i;
      val[r * in + n] = v;
      ++n;
    }
  }
  count[r] = n;
}

/// wt[i][o] = w[o][i]
__global__ void transpose(const float *w, float *wt, int64_t out, int64_t in) {
  const int64_t k = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  if (k < out * in) wt[(k % in) * out + k / in] = w[k];
}

/// one thread per (row, output): the bias plus the weights of the row's events
__global__ void linear_events_forward(const int32_t *idx, const float *val, const int32_t *count,
                                      const float *wt, const float *b, float *y, int64_t rows,
                                      int64_t in, int64_t out) {
  const int64_t k = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  if (k >= rows * out) return;
  const int64_t r = k / out, o = k % out;
  float s = b[o];
  for (int32_t e = 0; e < count[r]; ++e)
    s += val[r * in + e] * wt[(int64_t)idx[r * in + e] * out + o];
  y[k] = s;
}

/// one thread per output: its weight row's gradient from every event, rows in order
__global__ void linear_events_weight_grad(const int32_t *idx, const float *val,
                                          const int32_t *count, const float *g_y, float *g_w,
                                          int64_t rows, int64_t in, int64_t out) {
  const int64_t o = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  if (o >= out) return;
  for (int64_t r = 0; r < rows; ++r) {
    const float g = g_y[r * out + o];
    for (int32_t e = 0; e < count[r]; ++e) g_w[o * in + idx[r * in + e]] += val[r * in + e] * g;
  }
}

// ---- event-driven convolutions (a conv forced to `synapse = event`) ----

/// one thread per output (row, o, position): the bias plus, for each of the row's events
/// (in order) inside the output's window, the value times the tap that connects them
__global__ void conv_events_forward(const int32_t *idx, const float *val, const int32_t *count,
                                    const float *w, const float *b, float *y, int64_t rows,
                                    ConvShape g) {
  const int64_t hw = g.OH * g.OW, in = g.C * g.H * g.W;
  const int64_t k = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  if (k >= rows * g.Cout * hw) return;
  const int64_t r = k / (g.Cout * hw), o = k / hw % g.Cout, p = k % hw;
  const int64_t y0 = p / g.OW * g.S - g.P, x0 = p % g.OW * g.S - g.P;
  float s = 0.f;
  for (int32_t e = 0; e < count[r]; ++e) {
    const int64_t i = idx[r * in + e], c = i / (g.H * g.W);
    const int64_t ky = i / g.W % g.H - y0, kx = i % g.W - x0;
    if (ky >= 0 && ky < g.K && kx >= 0 && kx < g.K)
      s += val[r * in + e] * w[((o * g.C + c) * g.K + ky) * g.K + kx];
  }
  y[k] = s + b[o];
}

/// one thread per weight (o, c, ky, kx): over the rows in order, each event of channel c
/// (found by bisection: a row's events are sorted) that reaches an output through this tap,
/// times that output's gradient
__global__ void conv_events_weight_grad(const int32_t *idx, const float *val, const int32_t *count,
                                        const float *g_y, float *g_w, int64_t rows, ConvShape g) {
  const int64_t hw = g.OH * g.OW, in = g.C * g.H * g.W, plane = g.H * g.W;
  const int64_t k = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  if (k >= g.Cout * g.C * g.K * g.K) return;
  const int64_t o = k / (g.C * g.K * g.K), c = k / (g.K * g.K) % g.C, ky = k / g.K % g.K,
                kx = k % g.K;
  float s = 0.f;
  for (int64_t r = 0; r < rows; ++r) {
    const int32_t *first = idx + r * in;
    int32_t lo = 0, hi = count[r];
    while (lo < hi) {  // the first event of channel c
      const int32_t mid = (lo + hi) / 2;
      if (first[mid] < c * plane)
        lo = mid + 1;
      else
        hi = mid;
    }
    for (int32_t e = lo; e < count[r] && first[e] < (c + 1) * plane; ++e) {
      const int64_t ty = first[e] % plane / g.W + g.P - ky, tx = first[e] % g.W + g.P - kx;
      if (ty < 0 || tx < 0 || ty % g.S || tx % g.S || ty / g.S >= g.OH || tx / g.S >= g.OW)
        continue;
      s += val[r * in + e] * g_y[(r * g.Cout + o) * hw + ty / g.S * g.OW + tx / g.S];
    }
  }
  g_w[k] += s;
}

/// y += x * keep * scale (dropout in training: forward into a zeroed y; backward adds the
/// masked gradient into g_x)
__global__ void apply_mask(const float *x, const uint8_t *keep, float scale, float *y, int64_t n) {
  const int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  if (i < n) y[i] += keep[i] ? x[i] * scale : 0.f;
}

__global__ void expand_bytes(const uint8_t *x, float *y, int64_t n) {
  const int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  if (i < n) y[i] = (float)x[i];
}

__global__ void broadcast_steps(const float *images, float *y, int64_t per_step, int64_t T) {
  const int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  if (i < per_step * T) y[i] = images[i % per_step];
}

/// counts[b*K + k] = sum over t of out[t][b][k], in double as the CPU's losses
__global__ void output_counts(const float *out, double *counts, int64_t T, int64_t BK) {
  const int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  if (i >= BK) return;
  double c = 0;
  for (int64_t t = 0; t < T; ++t) c += out[t * BK + i];
  counts[i] = c;
}

/// one thread per sample: the first class with the largest count
__global__ void argmax_counts(const double *counts, int32_t *pred, int64_t B, int64_t K) {
  const int64_t b = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  if (b >= B) return;
  int32_t best = 0;
  for (int64_t k = 1; k < K; ++k)
    if (counts[b * K + k] > counts[b * K + best]) best = (int32_t)k;
  pred[b] = best;
}

/// one thread per sample: the class of the largest membrane over all steps (state 0)
__global__ void argmax_membrane(const float *post, int32_t *pred, int64_t T, int64_t B, int64_t K,
                                int64_t S) {
  const int64_t b = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  if (b >= B) return;
  float best = -INFINITY;
  int32_t at = 0;
  for (int64_t t = 0; t < T; ++t)
    for (int64_t k = 0; k < K; ++k) {
      const float m = post[(t * S) * B * K + b * K + k];
      if (m > best) best = m, at = (int32_t)k;
    }
  pred[b] = at;
}

/// one thread per sample: spike-count MSE (Loss.h), its gradient for every step
__global__ void mse_count_loss(const double *counts, const int32_t *labels, float *grad,
                               double *loss, int64_t T, int64_t B, int64_t K, double on,
                               double off) {
  const int64_t b = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  if (b >= B) return;
  double sum = 0;
  for (int64_t k = 0; k < K; ++k) {
    const double d = counts[b * K + k] - (k == labels[b] ? on : off);
    sum += d * d;
    const float g = (float)(2 * d / ((double)B * K * T));
    for (int64_t t = 0; t < T; ++t) grad[t * B * K + b * K + k] = g;
  }
  loss[b] = sum;
}

/// one thread per sample: cross-entropy of softmax(counts)
__global__ void cross_entropy_count_loss(const double *counts, const int32_t *labels, float *grad,
                                         double *loss, int64_t T, int64_t B, int64_t K) {
  const int64_t b = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  if (b >= B) return;
  const double *c = counts + b * K;
  double m = c[0];
  for (int64_t k = 1; k < K; ++k) m = fmax(m, c[k]);
  double z = 0;
  for (int64_t k = 0; k < K; ++k) z += exp(c[k] - m);
  loss[b] = -(c[labels[b]] - m - log(z));
  for (int64_t k = 0; k < K; ++k) {
    const float g = (float)((exp(c[k] - m) / z - (k == labels[b])) / B);
    for (int64_t t = 0; t < T; ++t) grad[t * B * K + b * K + k] = g;
  }
}

/// one thread per (step, sample): cross-entropy of softmax(membrane), gradient on the state
__global__ void membrane_cross_entropy_loss(const float *post, const int32_t *labels,
                                            float *g_state, double *loss, int64_t T, int64_t B,
                                            int64_t K, int64_t S) {
  const int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  if (i >= T * B) return;
  const int64_t t = i / B, b = i % B;
  const float *m = post + (t * S) * B * K + b * K;
  double mx = m[0];
  for (int64_t k = 1; k < K; ++k) mx = fmax(mx, (double)m[k]);
  double z = 0;
  for (int64_t k = 0; k < K; ++k) z += exp(m[k] - mx);
  loss[i] = -(m[labels[b]] - mx - log(z));
  for (int64_t k = 0; k < K; ++k)
    g_state[(t * S) * B * K + b * K + k] =
        (float)((exp(m[k] - mx) / z - (k == labels[b])) / ((double)B * T));
}

/// one thread per (step, sample): membrane MSE against on/off, gradient on the state
__global__ void membrane_mse_loss(const float *post, const int32_t *labels, float *g_state,
                                  double *loss, int64_t T, int64_t B, int64_t K, int64_t S,
                                  double on, double off) {
  const int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  if (i >= T * B) return;
  const int64_t t = i / B, b = i % B;
  const double n = (double)T * B * K;
  double sum = 0;
  for (int64_t k = 0; k < K; ++k) {
    const int64_t at = (t * S) * B * K + b * K + k;
    const double d = post[at] - (k == labels[b] ? on : off);
    sum += d * d;
    g_state[at] = (float)(2 * d / n);
  }
  loss[i] = sum;
}

/// each thread a stretch of `chunk` values: sum, nonzero and non-binary counts (integers
/// summed atomically are exact, whatever the order)
__global__ void count_activity(const float *x, int64_t n, int64_t chunk, double *sum,
                               unsigned long long *nonzero, unsigned long long *non_binary) {
  const int64_t first = (blockIdx.x * (int64_t)blockDim.x + threadIdx.x) * chunk;
  if (first >= n) return;
  const int64_t last = first + chunk < n ? first + chunk : n;
  double s = 0;
  unsigned long long nz = 0, nb = 0;
  for (int64_t i = first; i < last; ++i) {
    s += x[i];
    nz += x[i] != 0.f;
    nb += x[i] != 0.f && x[i] != 1.f;
  }
  atomicAdd(sum, s);
  atomicAdd(nonzero, nz);
  atomicAdd(non_binary, nb);
}

}  // namespace

struct DeviceNetwork::Impl {
  std::vector<nn::LayerSpec> layers;
  int output;
  std::vector<DeviceCell> cells;
  cublasHandle_t blas = nullptr;
  std::vector<int> weight_of, bias_of;
  std::vector<std::unique_ptr<DeviceArray<float>>> act, post, grad, value, gradient;
  std::vector<std::unique_ptr<DeviceArray<int32_t>>> argmax;
  /// per event-driven linear or conv layer: its input's events (index, value, count per row)
  std::vector<std::unique_ptr<DeviceArray<int32_t>>> event_index, event_count;
  std::vector<std::unique_ptr<DeviceArray<float>>> event_value;
  DeviceArray<float> transposed;
  DeviceArray<float> cols, out, G, scratch, carry, g_state, staging;
  DeviceArray<uint8_t> bytes;
  DeviceArray<int32_t> labels, predictions;
  DeviceArray<double> counts, losses, sum;
  DeviceArray<unsigned long long> tallies;
  bool loss_on_state = false;  ///< the last device loss was on the output cell's state
  bool training = false;
  std::vector<std::unique_ptr<DeviceArray<uint8_t>>> dropout_keep;  ///< per dropout layer
  int64_t T = 0, B = 0;

  int64_t features(int i) const { return nn::elements(layers[i].shape); }

  /// Row-major C[M][N] = alpha op(A) op(B) + beta C through column-major cuBLAS (C^T = B^T A^T).
  void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const float *A, int64_t lda,
            const float *Bm, int64_t ldb, float beta, float *C, int64_t ldc) {
    const float alpha = 1.f;
    check_blas(
        cublasSgemm(blas, tb ? CUBLAS_OP_T : CUBLAS_OP_N, ta ? CUBLAS_OP_T : CUBLAS_OP_N, (int)N,
                    (int)M, (int)K, &alpha, Bm, (int)ldb, A, (int)lda, &beta, C, (int)ldc),
        "sgemm");
  }

  /// Lists the nonzero inputs of layer i's input x ([rows][in]) per row on the device.
  void list_input_events(int i, const float *x, int64_t rows, int64_t in) {
    event_index[i]->resize(rows * in);
    event_value[i]->resize(rows * in);
    event_count[i]->resize(rows);
    SNNC_LAUNCH(list_events, blocks_for(rows), kThreads, x, event_index[i]->data,
                event_value[i]->data, event_count[i]->data, rows, in);
    check_launch("event lists");
  }

  ConvShape conv_shape(int i) const {
    const nn::LayerSpec &l = layers[i];
    const auto &in = layers[l.input].shape;
    return {in[0], in[1], in[2], l.channels, l.kernel, l.stride, l.padding, l.shape[1], l.shape[2]};
  }
  PoolShape pool_shape(int i) const {
    const nn::LayerSpec &l = layers[i];
    const auto &in = layers[l.input].shape;
    return {in[0], in[1], in[2], l.kernel, l.stride, l.padding, l.shape[1], l.shape[2]};
  }

  void forward_layer(int i) {
    const nn::LayerSpec &l = layers[i];
    const int64_t rows = T * B, n_out = rows * features(i);
    DeviceArray<float> &y = *act[i];
    y.resize(n_out);
    const float *x = act[l.input]->data;
    switch (l.kind) {
      case nn::LayerSpec::Linear: {
        const int64_t in = features(l.input);
        if (l.synapse == nn::Synapse::Event) {  // forced in the file or on the command line
          list_input_events(i, x, rows, in);
          transposed.resize(in * l.out_features);
          SNNC_LAUNCH(transpose, blocks_for(in * l.out_features), kThreads,
                      value[weight_of[i]]->data, transposed.data, l.out_features, in);
          SNNC_LAUNCH(linear_events_forward, blocks_for(n_out), kThreads, event_index[i]->data,
                      event_value[i]->data, event_count[i]->data, transposed.data,
                      value[bias_of[i]]->data, y.data, rows, in, l.out_features);
          check_launch("linear (events)");
          break;
        }
        gemm(false, true, rows, l.out_features, in, x, in, value[weight_of[i]]->data, in, 0.f,
             y.data, l.out_features);
        SNNC_LAUNCH(add_bias_rows, blocks_for(n_out), kThreads, y.data, value[bias_of[i]]->data,
                    rows, l.out_features);
        check_launch("bias");
        break;
      }
      case nn::LayerSpec::Conv2d: {
        const ConvShape g = conv_shape(i);
        const int64_t hw = g.OH * g.OW, ckk = g.C * g.K * g.K, in = g.C * g.H * g.W;
        if (l.synapse == nn::Synapse::Event) {  // forced in the file or on the command line
          list_input_events(i, x, rows, in);
          SNNC_LAUNCH(conv_events_forward, blocks_for(n_out), kThreads, event_index[i]->data,
                      event_value[i]->data, event_count[i]->data, value[weight_of[i]]->data,
                      value[bias_of[i]]->data, y.data, rows, g);
          check_launch("conv2d (events)");
          break;
        }
        for (int64_t r0 = 0; r0 < rows; r0 += kRowChunk) {
          const int64_t n = std::min(kRowChunk, rows - r0), N = n * hw;
          cols.resize(ckk * N);
          out.resize(g.Cout * N);
          SNNC_LAUNCH(im2col, blocks_for(ckk * N), kThreads, x + r0 * in, cols.data, n, g);
          gemm(false, false, g.Cout, N, ckk, value[weight_of[i]]->data, ckk, cols.data, N, 0.f,
               out.data, N);
          SNNC_LAUNCH(scatter_conv_output, blocks_for(g.Cout * N), kThreads, out.data,
                      value[bias_of[i]]->data, y.data + r0 * g.Cout * hw, n, g.Cout, hw);
          check_launch("conv2d");
        }
        break;
      }
      case nn::LayerSpec::MaxPool:
        argmax[i]->resize(n_out);
        SNNC_LAUNCH(maxpool_forward, blocks_for(n_out), kThreads, x, y.data, argmax[i]->data, rows,
                    pool_shape(i));
        check_launch("maxpool");
        break;
      case nn::LayerSpec::AvgPool:
        SNNC_LAUNCH(avgpool_forward, blocks_for(n_out), kThreads, x, y.data, rows, pool_shape(i));
        check_launch("avgpool");
        break;
      case nn::LayerSpec::Dropout:
        if (training && l.rate > 0) {
          if (dropout_keep[i]->size != static_cast<size_t>(n_out))
            throw std::logic_error("device executor: no dropout mask for '" + l.name + "'");
          y.zero();
          SNNC_LAUNCH(apply_mask, blocks_for(n_out), kThreads, x, dropout_keep[i]->data,
                      static_cast<float>(1.0 / (1.0 - l.rate)), y.data, n_out);
          check_launch("dropout");
          break;
        }
        [[fallthrough]];
      case nn::LayerSpec::Flatten:
        check(cudaMemcpy(y.data, x, n_out * sizeof(float), cudaMemcpyDeviceToDevice), "copy");
        break;
      case nn::LayerSpec::Cell: {
        const int64_t N = B * features(i);
        post[i]->resize(T * std::max<int64_t>(l.states, 0) * N);
        check(static_cast<cudaError_t>(
                  cells[i].forward(x, y.data, post[i]->data, T, N, N, N, l.states * N)),
              ("cell " + l.name + " forward").c_str());
        break;
      }
      default:
        throw std::logic_error("device executor: unknown layer kind");
    }
  }

  /// Backward through every layer from grad[output] (already in place): the other
  /// gradients start at zero.
  void run_backward(const float *g_state_device) {
    const int64_t rows = T * B;
    for (size_t i = 1; i < layers.size(); ++i) {
      if (static_cast<int>(i) == output) continue;
      grad[i]->resize(rows * features(static_cast<int>(i)));
      grad[i]->zero();
    }
    for (int i = static_cast<int>(layers.size()) - 1; i > 0; --i)
      backward_layer(i, i == output ? g_state_device : nullptr);
    check(cudaDeviceSynchronize(), "backward");
  }

  void backward_layer(int i, const float *g_state_device) {
    const nn::LayerSpec &l = layers[i];
    const int64_t rows = T * B;
    const bool input_grad = l.input > 0;
    float *g_x = input_grad ? grad[l.input]->data : nullptr;
    const float *g_y = grad[i]->data, *x = act[l.input]->data;
    switch (l.kind) {
      case nn::LayerSpec::Linear: {
        const int64_t in = features(l.input), out_f = l.out_features;
        if (g_x)
          gemm(false, false, rows, in, out_f, g_y, out_f, value[weight_of[i]]->data, in, 1.f, g_x,
               in);
        if (l.synapse == nn::Synapse::Event)
          SNNC_LAUNCH(linear_events_weight_grad, blocks_for(out_f), kThreads, event_index[i]->data,
                      event_value[i]->data, event_count[i]->data, g_y, gradient[weight_of[i]]->data,
                      rows, in, out_f);
        else
          gemm(true, false, out_f, in, rows, g_y, out_f, x, in, 1.f, gradient[weight_of[i]]->data,
               in);
        SNNC_LAUNCH(bias_grad, blocks_for(out_f), kThreads, g_y, gradient[bias_of[i]]->data, out_f,
                    rows, 1, out_f);
        check_launch("linear backward");
        break;
      }
      case nn::LayerSpec::Conv2d: {
        const ConvShape g = conv_shape(i);
        const int64_t hw = g.OH * g.OW, ckk = g.C * g.K * g.K, in = g.C * g.H * g.W;
        const bool events = l.synapse == nn::Synapse::Event;
        if (events) {  // the weight gradient from the forward's event lists
          SNNC_LAUNCH(conv_events_weight_grad, blocks_for(g.Cout * ckk), kThreads,
                      event_index[i]->data, event_value[i]->data, event_count[i]->data, g_y,
                      gradient[weight_of[i]]->data, rows, g);
          check_launch("conv2d weight gradient (events)");
        }
        for (int64_t r0 = 0; r0 < rows; r0 += kRowChunk) {
          const int64_t n = std::min(kRowChunk, rows - r0), N = n * hw;
          G.resize(g.Cout * N);
          cols.resize(ckk * N);
          SNNC_LAUNCH(gather_conv_grad, blocks_for(g.Cout * N), kThreads, g_y + r0 * g.Cout * hw,
                      G.data, n, g.Cout, hw);
          SNNC_LAUNCH(bias_grad, blocks_for(g.Cout), kThreads, G.data, gradient[bias_of[i]]->data,
                      g.Cout, N, N, 1);
          check_launch("conv2d backward");
          if (!events) {
            SNNC_LAUNCH(im2col, blocks_for(ckk * N), kThreads, x + r0 * in, cols.data, n, g);
            check_launch("conv2d backward");
            gemm(false, true, g.Cout, ckk, N, G.data, N, cols.data, N, 1.f,
                 gradient[weight_of[i]]->data, ckk);
          }
          if (!g_x) continue;
          gemm(true, false, ckk, N, g.Cout, value[weight_of[i]]->data, ckk, G.data, N, 0.f,
               cols.data, N);
          SNNC_LAUNCH(col2im, blocks_for(n * in), kThreads, cols.data, g_x + r0 * in, n, g);
          check_launch("conv2d input gradient");
        }
        break;
      }
      case nn::LayerSpec::MaxPool:
        if (!g_x) break;
        SNNC_LAUNCH(maxpool_backward, blocks_for(rows * features(i)), kThreads, g_y, g_x,
                    argmax[i]->data, rows, features(i), features(l.input));
        check_launch("maxpool backward");
        break;
      case nn::LayerSpec::AvgPool:
        if (!g_x) break;
        SNNC_LAUNCH(avgpool_backward, blocks_for(rows * features(i)), kThreads, g_y, g_x, rows,
                    pool_shape(i));
        check_launch("avgpool backward");
        break;
      case nn::LayerSpec::Dropout:
        if (!g_x) break;
        if (training && l.rate > 0) {  // the forward pass's mask
          SNNC_LAUNCH(apply_mask, blocks_for(rows * features(i)), kThreads, g_y,
                      dropout_keep[i]->data, static_cast<float>(1.0 / (1.0 - l.rate)), g_x,
                      rows * features(i));
          check_launch("dropout backward");
          break;
        }
        [[fallthrough]];
      case nn::LayerSpec::Flatten:
        if (!g_x) break;
        SNNC_LAUNCH(axpy, blocks_for(rows * features(i)), kThreads, g_x, g_y, rows * features(i));
        check_launch("flatten backward");
        break;
      case nn::LayerSpec::Cell: {
        if (!g_x) break;
        const int64_t N = B * features(i);
        scratch.resize(rows * features(i));
        carry.resize(std::max<int64_t>(l.states, 1) * N);
        carry.zero();
        check(static_cast<cudaError_t>(cells[i].backward(x, act[i]->data, post[i]->data, g_y,
                                                         g_state_device, scratch.data, carry.data,
                                                         T, N, N)),
              ("cell " + l.name + " backward").c_str());
        SNNC_LAUNCH(axpy, blocks_for(rows * features(i)), kThreads, g_x, scratch.data,
                    rows * features(i));
        check_launch("cell backward");
        break;
      }
      default:
        throw std::logic_error("device executor: unknown layer kind");
    }
  }
};

DeviceNetwork::DeviceNetwork(std::vector<nn::LayerSpec> layers, int output,
                             std::vector<DeviceCell> cells)
    : impl_(std::make_unique<Impl>()) {
  Impl &m = *impl_;
  m.layers = std::move(layers);
  m.output = output;
  m.cells = std::move(cells);
  m.cells.resize(m.layers.size());
  const size_t n = m.layers.size();
  m.weight_of.assign(n, -1);
  m.bias_of.assign(n, -1);
  int params = 0;
  for (size_t i = 0; i < n; ++i) {
    const nn::LayerSpec &l = m.layers[i];
    if (l.kind == nn::LayerSpec::Linear || l.kind == nn::LayerSpec::Conv2d) {
      m.weight_of[i] = params++;
      m.bias_of[i] = params++;
    }
    if (l.kind == nn::LayerSpec::Cell && (!m.cells[i].forward || !m.cells[i].backward))
      throw std::invalid_argument("device executor: no kernels for cell '" + l.name + "'");
  }
  for (size_t i = 0; i < n; ++i) {
    m.act.push_back(std::make_unique<DeviceArray<float>>());
    m.post.push_back(std::make_unique<DeviceArray<float>>());
    m.grad.push_back(std::make_unique<DeviceArray<float>>());
    m.argmax.push_back(std::make_unique<DeviceArray<int32_t>>());
    m.event_index.push_back(std::make_unique<DeviceArray<int32_t>>());
    m.event_count.push_back(std::make_unique<DeviceArray<int32_t>>());
    m.event_value.push_back(std::make_unique<DeviceArray<float>>());
    m.dropout_keep.push_back(std::make_unique<DeviceArray<uint8_t>>());
  }
  for (int k = 0; k < params; ++k) {
    m.value.push_back(std::make_unique<DeviceArray<float>>());
    m.gradient.push_back(std::make_unique<DeviceArray<float>>());
  }
  int devices = 0;
  check(cudaGetDeviceCount(&devices), "looking for a GPU (this needs an NVIDIA GPU and driver)");
  if (devices == 0) throw std::runtime_error("CUDA: no GPU found");
  check_blas(cublasCreate(&m.blas), "cublasCreate");
}

DeviceNetwork::~DeviceNetwork() {
  if (impl_->blas) cublasDestroy(impl_->blas);
}

void DeviceNetwork::set_params(const std::vector<nn::Param> &params) {
  if (params.size() != impl_->value.size())
    throw std::invalid_argument("device executor: " + std::to_string(params.size()) +
                                " parameters for " + std::to_string(impl_->value.size()));
  for (size_t k = 0; k < params.size(); ++k) {
    impl_->value[k]->upload(params[k].value.data(), params[k].value.size());
    if (impl_->gradient[k]->size != params[k].value.size()) {
      impl_->gradient[k]->resize(params[k].value.size());
      impl_->gradient[k]->zero();
    }
  }
}

void DeviceNetwork::get_grads(std::vector<nn::Param> &params) const {
  for (size_t k = 0; k < params.size() && k < impl_->gradient.size(); ++k) {
    const std::vector<float> g = impl_->gradient[k]->download();  // into the existing buffer:
    params[k].grad.resize(g.size());                              // optimizers hold pointers to it
    std::copy(g.begin(), g.end(), params[k].grad.begin());
  }
}

void DeviceNetwork::set_training(bool on) {
  impl_->training = on;
}

void DeviceNetwork::set_dropout_mask(int layer, const uint8_t *keep, int64_t n) {
  impl_->dropout_keep.at(layer)->upload(keep, static_cast<size_t>(n));
}

void DeviceNetwork::zero_grad() {
  for (auto &g : impl_->gradient) g->zero();
}

std::vector<float> DeviceNetwork::forward(const float *x, int64_t T, int64_t B) {
  Impl &m = *impl_;
  m.T = T;
  m.B = B;
  for (size_t i = 0; i < m.layers.size(); ++i)
    if (m.layers[i].kind == nn::LayerSpec::Input)
      m.act[i]->upload(x, static_cast<size_t>(T * B * m.features(static_cast<int>(i))));
    else
      m.forward_layer(static_cast<int>(i));
  return m.act[m.output]->download();
}

std::vector<float> DeviceNetwork::activation(int layer) const {
  return impl_->act.at(layer)->download();
}

std::vector<float> DeviceNetwork::output_state() const {
  return impl_->post[impl_->output]->download();
}

void DeviceNetwork::backward(const float *g_out, const float *g_state) {
  Impl &m = *impl_;
  m.grad[m.output]->upload(g_out, static_cast<size_t>(m.T * m.B * m.features(m.output)));
  const float *g_state_device = nullptr;
  if (g_state) {
    m.g_state.upload(g_state, m.post[m.output]->size);
    g_state_device = m.g_state.data;
  }
  m.run_backward(g_state_device);
}

namespace {
/// The layers after the input, forward, once the input activation is in place.
void forward_rest(DeviceNetwork::Impl &m) {
  for (size_t i = 0; i < m.layers.size(); ++i)
    if (m.layers[i].kind != nn::LayerSpec::Input) m.forward_layer(static_cast<int>(i));
}
int input_layer(const DeviceNetwork::Impl &m) {
  for (size_t i = 0; i < m.layers.size(); ++i)
    if (m.layers[i].kind == nn::LayerSpec::Input) return static_cast<int>(i);
  throw std::logic_error("device executor: no input layer");
}
}  // namespace

void DeviceNetwork::forward_spikes(const uint8_t *x, int64_t T, int64_t B) {
  Impl &m = *impl_;
  m.T = T;
  m.B = B;
  const int in = input_layer(m);
  const int64_t n = T * B * m.features(in);
  m.bytes.upload(x, static_cast<size_t>(n));
  m.act[in]->resize(n);
  SNNC_LAUNCH(expand_bytes, blocks_for(n), kThreads, m.bytes.data, m.act[in]->data, n);
  check_launch("input");
  forward_rest(m);
}

void DeviceNetwork::forward_direct(const float *images, int64_t T, int64_t B) {
  Impl &m = *impl_;
  m.T = T;
  m.B = B;
  const int in = input_layer(m);
  const int64_t per_step = B * m.features(in);
  m.staging.upload(images, static_cast<size_t>(per_step));
  m.act[in]->resize(T * per_step);
  SNNC_LAUNCH(broadcast_steps, blocks_for(T * per_step), kThreads, m.staging.data, m.act[in]->data,
              per_step, T);
  check_launch("input");
  forward_rest(m);
}

DeviceNetwork::LossValue DeviceNetwork::loss(const int32_t *labels, const Loss &l) {
  Impl &m = *impl_;
  const int64_t T = m.T, B = m.B, K = m.features(m.output), S = m.layers[m.output].states;
  m.labels.upload(labels, static_cast<size_t>(B));
  const bool membrane = l.kind == Loss::MembraneCrossEntropy || l.kind == Loss::MembraneMse;
  if (membrane && S == 0)
    throw std::invalid_argument("device executor: a membrane loss needs a stateful output cell");
  m.grad[m.output]->resize(T * B * K);
  m.predictions.resize(B);
  LossValue v;
  if (membrane) {
    m.grad[m.output]->zero();
    m.g_state.resize(m.post[m.output]->size);
    m.g_state.zero();
    m.losses.resize(T * B);
    if (l.kind == Loss::MembraneCrossEntropy)
      SNNC_LAUNCH(membrane_cross_entropy_loss, blocks_for(T * B), kThreads, m.post[m.output]->data,
                  m.labels.data, m.g_state.data, m.losses.data, T, B, K, S);
    else
      SNNC_LAUNCH(membrane_mse_loss, blocks_for(T * B), kThreads, m.post[m.output]->data,
                  m.labels.data, m.g_state.data, m.losses.data, T, B, K, S, l.on, l.off);
    SNNC_LAUNCH(argmax_membrane, blocks_for(B), kThreads, m.post[m.output]->data,
                m.predictions.data, T, B, K, S);
  } else {
    m.counts.resize(B * K);
    m.losses.resize(B);
    SNNC_LAUNCH(output_counts, blocks_for(B * K), kThreads, m.act[m.output]->data, m.counts.data, T,
                B * K);
    if (l.kind == Loss::CrossEntropyCount)
      SNNC_LAUNCH(cross_entropy_count_loss, blocks_for(B), kThreads, m.counts.data, m.labels.data,
                  m.grad[m.output]->data, m.losses.data, T, B, K);
    else
      SNNC_LAUNCH(mse_count_loss, blocks_for(B), kThreads, m.counts.data, m.labels.data,
                  m.grad[m.output]->data, m.losses.data, T, B, K, std::trunc(T * l.on),
                  std::trunc(T * l.off));
    SNNC_LAUNCH(argmax_counts, blocks_for(B), kThreads, m.counts.data, m.predictions.data, B, K);
  }
  check_launch("loss");
  m.loss_on_state = membrane;
  double sum = 0;
  for (double x : m.losses.download()) sum += x;
  switch (l.kind) {
    case Loss::MseCount:
      v.loss = sum / (static_cast<double>(B) * K) / T;
      break;
    case Loss::CrossEntropyCount:
      v.loss = sum / B;
      break;
    case Loss::MembraneCrossEntropy:
      v.loss = sum / (static_cast<double>(B) * T);
      break;
    case Loss::MembraneMse:
      v.loss = sum / (static_cast<double>(T) * B * K);
      break;
  }
  const std::vector<int32_t> pred = m.predictions.download();
  for (int64_t b = 0; b < B; ++b) v.correct += pred[b] == labels[b];
  return v;
}

void DeviceNetwork::backward_loss() {
  Impl &m = *impl_;  // the loss left grad[output] (and g_state) on the device
  m.run_backward(m.loss_on_state ? m.g_state.data : nullptr);
}

std::vector<int32_t> DeviceNetwork::predict(bool by_membrane) {
  Impl &m = *impl_;
  const int64_t T = m.T, B = m.B, K = m.features(m.output);
  m.predictions.resize(B);
  if (by_membrane) {
    SNNC_LAUNCH(argmax_membrane, blocks_for(B), kThreads, m.post[m.output]->data,
                m.predictions.data, T, B, K, m.layers[m.output].states);
  } else {
    m.counts.resize(B * K);
    SNNC_LAUNCH(output_counts, blocks_for(B * K), kThreads, m.act[m.output]->data, m.counts.data, T,
                B * K);
    SNNC_LAUNCH(argmax_counts, blocks_for(B), kThreads, m.counts.data, m.predictions.data, B, K);
  }
  check_launch("predict");
  return m.predictions.download();
}

DeviceNetwork::Activity DeviceNetwork::activity(int layer) {
  Impl &m = *impl_;
  const DeviceArray<float> &a = *m.act.at(layer);
  const int64_t n = static_cast<int64_t>(a.size), chunk = 4096;
  m.sum.resize(1);
  m.sum.zero();
  m.tallies.resize(2);
  m.tallies.zero();
  const int64_t threads = (n + chunk - 1) / chunk;
  if (threads > 0)
    SNNC_LAUNCH(count_activity, blocks_for(threads), kThreads, a.data, n, chunk, m.sum.data,
                m.tallies.data, m.tallies.data + 1);
  check_launch("activity");
  Activity v;
  v.sum = m.sum.download()[0];
  const auto t = m.tallies.download();
  v.nonzero = static_cast<int64_t>(t[0]);
  v.non_binary = static_cast<int64_t>(t[1]);
  return v;
}

size_t DeviceNetwork::device_bytes() const {
  size_t bytes = 0;
  auto add = [&](const auto &arrays) {
    for (const auto &a : arrays) bytes += a->capacity * sizeof(*a->data);
  };
  add(impl_->act);
  add(impl_->post);
  add(impl_->grad);
  add(impl_->value);
  add(impl_->gradient);
  add(impl_->argmax);
  for (const DeviceArray<float> *a :
       {&impl_->cols, &impl_->out, &impl_->G, &impl_->scratch, &impl_->carry, &impl_->g_state})
    bytes += a->capacity * sizeof(float);
  return bytes;
}

}  // namespace snnc::rt::cuda

extern "C" snnc::rt::cuda::DeviceNetwork *snnc_device_network_create(
    const std::vector<snnc::rt::nn::LayerSpec> *layers, int output,
    const std::vector<snnc::rt::cuda::DeviceCell> *cells, std::string *error) {
  try {
    return new snnc::rt::cuda::DeviceNetwork(*layers, output, *cells);
  } catch (const std::exception &e) {
    if (error) *error = e.what();
    return nullptr;
  }
}
