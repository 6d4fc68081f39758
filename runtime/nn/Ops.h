// Ops.h — the stateless tensor ops of a layer network on [rows][...] batches, where
// rows = T * B: linear and conv2d (dense through CBLAS, or event-driven from the list of
// nonzero inputs), max/avg pooling. Rows are split between the pool's threads; every
// reduction over rows (weight and bias gradients) is summed in fixed chunks, so results do
// not depend on the number of threads.
#pragma once
#include <cstdint>
#include <vector>

#include "Events.h"
#include "LinearPatterns.h"
#include "Network.h"

namespace snnc::rt::nn {

/// y = x w^T + b over all rows (one GEMM per row block).
void linear_forward(const float *x, const float *w, const float *b, float *y, int64_t rows,
                    int64_t in, int64_t out);
/// Whether linear_forward_narrow (and linear_backward's `narrow` weight gradient) run here
/// for a layer of `out` outputs (AVX-512, 1 to 16).
bool narrow_linear(int64_t out);
/// The dense product of a layer of at most 16 outputs (a readout), row by row in vector
/// registers: each row's nonzero inputs listed and their rows of wt ([in][16], the transposed
/// weight) summed, then the bias added. Returns the number of nonzero inputs. With `keep`,
/// the rows' lists are kept there (for the weight gradient: linear_backward's `narrow`).
int64_t linear_forward_narrow(const float *x, const float *wt, const float *b, float *y,
                              int64_t rows, int64_t in, int64_t out, Events *keep = nullptr);
/// The same for spikes given as bits (row r's word k at bits[r * words + k], bit j for input
/// 16k + j; each a 1): the same sums, without reading the float spikes.
int64_t linear_forward_narrow_bits(const uint16_t *bits, int64_t words, const float *wt,
                                   const float *b, float *y, int64_t rows, int64_t in, int64_t out);
/// The same from the nonzero inputs: y[r] = b + sum over events (i, v) of v * wt[i], with wt
/// the transposed weight [in][out] with rows ld_wt apart (>= out; rows on 64-byte boundaries
/// keep each vector load within one cache line).
/// Spike inputs in enough rows go through pattern tables (LinearPatterns.h): from `listed`
/// where count_and_list_patterns made the lists (ev then has no index lists), else from ev.
void linear_forward_events(const Events &ev, const float *wt, int64_t ld_wt, const float *b,
                           float *y, int64_t out, const PatternLists *listed = nullptr);
/// Forward-only passes: the cell that is a synaptic layer's only consumer (through its fused
/// max-pool, for a conv), run by the layer on each sample's T steps as soon as they are
/// summed (rows t * B + b), so that the layer's output never reaches memory: the cell's
/// scan from rest (`states` state variables per element) writing the cell's output.
struct CellPass {
  CellForward forward = nullptr;
  int64_t states = 0, T = 0, B = 0;
  float *out = nullptr;  ///< the cell's output [T][B][features]
  /// where not null (spiking cells, whose outputs are exactly 0 or 1): each row's spikes
  /// also as bits, `bit_words` 16-bit words per row (for a narrow readout or an event-path
  /// conv after it; see Network::hand_bits)
  uint16_t *bits = nullptr;
  int64_t bit_words = 0;
};
/// An event-driven linear layer and its cell: for each block of columns and each sample, the
/// T rows' sums go to a small buffer and the cell's scan runs over them. Each element's sums
/// and scan are those of linear_forward_events followed by the cell's forward.
void linear_cell_forward_events(const Events &ev, const float *wt, int64_t ld_wt, const float *b,
                                int64_t out, const CellPass &cell,
                                const PatternLists *listed = nullptr);
/// Its blocks of columns for `out` outputs (its work items: blocks times samples).
int64_t fused_column_blocks(int64_t out);
/// y[0, width) = init (zeros if null) + the sum, in event order, of value[e] times
/// rows[index[e] * ld + (0, width)]: the kernel of event-driven propagation (vector
/// registers hold the sums on AVX-512 machines). A null `value` means every value is 1
/// (spikes: plain additions, the same sums).
void sum_rows(const int32_t *index, const float *value, int64_t count, const float *rows,
              int64_t ld, const float *init, float *y, int64_t width);

/// g_b[o] += the sum over rows, in row order, of g_y[r][o].
void linear_bias_grad(const float *g_y, float *g_b, int64_t rows, int64_t out);

/// g_x = g_y w (add: g_x += g_y w), one GEMM per row block.
void linear_input_grad(const float *g_y, const float *w, float *g_x, int64_t rows, int64_t in,
                       int64_t out, bool add = false);
/// g_x may be null (no input gradient needed), else is written (add_to_g_x: accumulates);
/// g_w and g_b accumulate. With `ev` (the
/// input's events), the weight gradient is accumulated from events instead of a GEMM; with
/// `narrow` (a layer linear_forward_narrow computed), from each row's nonzero inputs, the
/// inputs split between threads (each weight's sum runs over the rows in order): listed
/// from x again, or taken from `ev` (the lists that forward kept).
void linear_backward(const float *x, const float *w, const float *g_y, float *g_x, float *g_w,
                     float *g_b, int64_t rows, int64_t in, int64_t out, const Events *ev = nullptr,
                     bool narrow = false, bool add_to_g_x = false);

/// Expands one sample's winners [C][OH][OW] into indices into its input [C][H][W] (-1: none).
void winner_indices(const Winner *winners, int32_t *index, int64_t C, int64_t H, int64_t W,
                    int64_t k, int64_t s, int64_t p);

/// A max-pool (kernel = stride, no padding) fused into the conv before it: the conv writes
/// only the pooled output and each pooled value's winner (an index into one sample's conv
/// output, as maxpool_forward records it), so the conv output never exists in memory.
struct FusedPool {
  int64_t kernel = 0;
  float *y = nullptr;        ///< [rows][Cout][PH][PW]
  Winner *argmax = nullptr;  ///< same shape; null: not recorded (forward only)
};
/// Backward of a fused conv + max-pool: the gradient w.r.t. the pooled output.
struct FusedPoolGrad {
  int64_t kernel = 0;
  const float *g_y = nullptr;
  const Winner *argmax = nullptr;
};

/// Dense convolution: im2col of a block of samples and one GEMM per block. With `pool`,
/// y is unused and the pooled output is written instead.
void conv2d_forward(const float *x, const float *w, const float *b, float *y, int64_t rows,
                    const std::vector<int64_t> &in_shape, const LayerSpec &l,
                    const FusedPool *pool = nullptr);
/// Event-driven convolution: each nonzero input adds its value times the kernel column it
/// meets to every output it reaches. With `cell`, y (and pool->y) are unused: each sample's T
/// (pooled) outputs go to a per-thread buffer, the cell's scan runs over them, and the
/// results equal the unfused layers' bit for bit.
/// With `bits` (spikes as spike_bits writes them, bit_words words per row), each row's events
/// are listed from those instead of taken from ev (which then holds only counts).
void conv2d_forward_events(const Events &ev, const float *w, const float *b, float *y,
                           const std::vector<int64_t> &in_shape, const LayerSpec &l,
                           const FusedPool *pool = nullptr, const CellPass *cell = nullptr,
                           const uint16_t *bits = nullptr, int64_t bit_words = 0);
/// g_x may be null; g_w and g_b accumulate; with `ev` the weight gradient comes from events;
/// with `pool`, g_y is unused and the conv output's gradient is routed from the pooled one.
void conv2d_backward(const float *x, const float *w, const float *g_y, float *g_x, float *g_w,
                     float *g_b, int64_t rows, const std::vector<int64_t> &in_shape,
                     const LayerSpec &l, const Events *ev = nullptr,
                     const FusedPoolGrad *pool = nullptr);

/// Max-pools one sample x [C][H][W] (kernel k, stride s, padding p) into y, recording each
/// output's winner (the first maximum in window order) unless argmax is null.
void maxpool_sample(const float *x, float *y, Winner *argmax, int64_t C, int64_t H, int64_t W,
                    int64_t k, int64_t s, int64_t p);
/// argmax: [rows][outputs] winners for the backward pass, or null (forward only).
void maxpool_forward(const float *x, float *y, Winner *argmax, int64_t rows,
                     const std::vector<int64_t> &in_shape, const LayerSpec &l);
void maxpool_backward(const float *g_y, float *g_x, const std::vector<Winner> &argmax, int64_t rows,
                      const std::vector<int64_t> &in_shape, const LayerSpec &l);
void avgpool_forward(const float *x, float *y, int64_t rows, const std::vector<int64_t> &in_shape,
                     const LayerSpec &l);
void avgpool_backward(const float *g_y, float *g_x, int64_t rows,
                      const std::vector<int64_t> &in_shape, const LayerSpec &l);

}  // namespace snnc::rt::nn
