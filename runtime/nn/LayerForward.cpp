// LayerForward.cpp — a network layer's forward step, one function per layer kind, and the
// choice of a synaptic layer's path (dense or events) for the pass.
#include <algorithm>
#include <chrono>
#include <stdexcept>

#include "CellScan.h"
#include "Network.h"
#include "Ops.h"

namespace snnc::rt::nn {

struct Network::ForwardStep {
  int i;
  const LayerSpec &l, &src;
  int64_t rows;           ///< T_ * B_
  const float *in;        ///< the input, read in place
  int64_t in_n;           ///< its values
  int pool_layer;         ///< a conv's fused max-pool, or -1
  std::vector<float> &y;  ///< the output buffer (a fused conv's: its pool's)
  int64_t y_size;
  /// the cell a synaptic layer computes with itself if it takes the event path, or -1 (the
  /// layer then gets its output buffer only when it does not)
  int cell;
};

namespace {

/// v holding `size` floats, from the pool if it has none.
void sized(MemoryPlan &mem, std::vector<float> &v, size_t size) {
  if (v.empty()) v = mem.acquire(size);
  v.resize(size);
}

}  // namespace

void Network::forward_layer(int i) {
  const LayerSpec &l = layers_[i];
  const int64_t rows = T_ * B_;
  const int pool_layer = l.kind == LayerSpec::Conv2d ? l.fused_pool : -1;
  const int y_layer = pool_layer >= 0 ? pool_layer : i;
  const LayerSpec &src = layers_[l.input];
  const int64_t y_size = rows * elements(layers_[y_layer].shape);
  const int cell =
      fusion_.cell_to_fuse(layers_, output_, mem_, i, B_, forward_only_ && seg_.count == 0);
  const float *in = data_of(l.input);
  const int64_t in_n = rows * elements(src.shape);
  const ForwardStep s{i, l, src, rows, in, in_n, pool_layer, act_[y_layer], y_size, cell};
  if (s.cell < 0) sized(mem_, s.y, s.y_size);  // (a fused cell's buffer is already sized)
  auto t0 = std::chrono::steady_clock::now();
  switch (l.kind) {
    case LayerSpec::Linear:
      forward_linear(s);
      break;
    case LayerSpec::Conv2d:
      forward_conv(s);
      break;
    case LayerSpec::MaxPool:
      forward_maxpool(s);
      break;
    case LayerSpec::AvgPool:
      forward_avgpool(s);
      break;
    case LayerSpec::Flatten:
      forward_flatten(s);
      break;
    case LayerSpec::Dropout:
      forward_dropout(s);
      break;
    case LayerSpec::Cell:
      forward_cell(s);
      break;
    default:
      throw std::logic_error("unknown layer kind");
  }
  fwd_s_[i] += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

bool Network::use_events(int i, const float *input, int64_t rows, int64_t width, bool pattern_lists,
                         const uint16_t *bits, int64_t bit_words) {
  const LayerSpec &l = layers_[i];
  SynapseStats &st = syn_[i];
  st.events = false;
  const bool planned_dense = planned_dense_at_any_density(l);  // (a readout)
  st.narrow = reads_as_narrow(l);
  if (l.synapse == Synapse::Dense && !l.compressed) {
    st.density = -1;
  } else if (planned_dense && (forward_only_ || st.narrow)) {
    // planned dense at any density (a readout): prediction skips the count (a pass over
    // the input) and keeps the density training measured; a narrow layer's row kernel
    // counts the nonzeros itself
  } else {
    // a forward-only pass of a linear layer that pattern tables may serve: the groups listed
    // in the counting pass (no index lists), which the tables read
    const bool direct = pattern_lists && forward_only_ && may_list_patterns(rows, width);
    int64_t nonzero =
        bits     ? count_bits(bits, rows, width, bit_words, events_[i])
        : direct ? count_and_list_patterns(input, rows, width, events_[i], fusion_.pattern_lists())
                 : count_events(input, rows, width, events_[i]);
    st.density =
        static_cast<double>(nonzero) / static_cast<double>(std::max<int64_t>(rows * width, 1));
    st.events = l.synapse == Synapse::Event || l.compressed || st.density < l.event_threshold;
    if (direct && st.events && use_linear_patterns(events_[i])) fusion_.patterns_listed(i);
  }
  if (st.events && !fusion_.has_patterns(i) && !bits) fill_events(input, events_[i]);
  if (!seg_.rerun) ++(st.events ? st.event_passes : st.dense_passes);  // (reruns: no new pass)
  return st.events;
}

void Network::forward_linear(const ForwardStep &s) {
  const int i = s.i;
  const LayerSpec &l = s.l;
  ops_.count(l, s.src, s.in, s.in_n, s.rows);
  const int64_t rows = s.rows, in_f = elements(s.src.shape), out = l.out_features;
  const float *w = params_[weight_of_[i]].value.data(), *b = params_[bias_of_[i]].value.data();
  std::vector<float> &y = s.y;
  if (l.compressed) {  // the kept connections only, from the input's events
    if (sparse_.size() != layers_.size() || sparse_[i].in != in_f) refresh_sparsity();
    gather_weights(sparse_[i], w);
    use_events(i, s.in, rows, in_f);
    sized(mem_, y, s.y_size);
    sparse_linear_forward(sparse_[i], events_[i], b, y.data());
  } else if (use_events(i, s.in, rows, in_f, true)) {
    float *wt = weight_t_.get(i, w, in_f, out);
    const PatternLists *listed = fusion_.take_patterns(i);
    if (s.cell >= 0) {  // the cell's output straight from the events: no y
      std::vector<float> &h = act_[s.cell];
      sized(mem_, h, rows * out);
      CellPass pass{layers_[s.cell].forward, layers_[s.cell].states, T_, B_, h.data()};
      fusion_.hand_bits(layers_, output_, mem_, s.cell, rows, out, pass);
      linear_cell_forward_events(events_[i], wt, TransposedWeights::ld(out), b, out, pass, listed);
      fusion_.fused(s.cell);
    } else {
      sized(mem_, y, s.y_size);
      linear_forward_events(events_[i], wt, TransposedWeights::ld(out), b, y.data(), out, listed);
    }
  } else if (syn_[i].narrow) {  // (a readout: the row kernel counts the nonzeros)
    sized(mem_, y, s.y_size);
    const float *wt = weight_t_.get(i, w, in_f, out);
    const bool from_bits = fusion_.bits_for(i);
    Events *keep = forward_only_ || from_bits ? nullptr : &events_[i];  // (for backward)
    const int64_t nonzero =
        from_bits ? linear_forward_narrow_bits(fusion_.bits(), (in_f + 15) / 16, wt, b, y.data(),
                                               rows, in_f, out)
                  : linear_forward_narrow(s.in, wt, b, y.data(), rows, in_f, out, keep);
    syn_[i].narrow_kept = keep != nullptr;
    fusion_.count_spike_bits(from_bits);
    fusion_.bits_read();
    if (!forward_only_)  // (prediction keeps the density training measured)
      syn_[i].density =
          static_cast<double>(nonzero) / static_cast<double>(std::max<int64_t>(rows * in_f, 1));
  } else {
    sized(mem_, y, s.y_size);
    linear_forward(s.in, w, b, y.data(), rows, in_f, out);
  }
}

void Network::forward_conv(const ForwardStep &s) {
  const int i = s.i, pool_layer = s.pool_layer;
  const LayerSpec &l = s.l, &src = s.src;
  ops_.count(l, src, s.in, s.in_n, s.rows);
  const float *w = params_[weight_of_[i]].value.data(), *b = params_[bias_of_[i]].value.data();
  FusedPool fused;
  if (pool_layer >= 0) {
    if (!forward_only_) argmax_[pool_layer].resize(s.y_size);
    fused = {layers_[pool_layer].kernel, nullptr,  // (y: set below when written)
             forward_only_ ? nullptr : argmax_[pool_layer].data()};
  }
  const FusedPool *pool = pool_layer >= 0 ? &fused : nullptr;
  // the input as bits, where its fused cell wrote them (read before this layer's own cell
  // hands its bits on, into the other buffer)
  const int64_t in_f = elements(src.shape), bit_words = (in_f + 15) / 16;
  const uint16_t *in_bits = fusion_.bits_for(i) ? fusion_.bits() : nullptr;
  if (in_bits) fusion_.bits_read();
  const bool events = use_events(i, s.in, s.rows, in_f, false, in_bits, bit_words);
  fusion_.count_conv_bits(in_bits && events);
  if (!events) in_bits = nullptr;
  if (events && s.cell >= 0) {
    std::vector<float> &h = act_[s.cell];  // the cell's output straight from the events
    sized(mem_, h, s.y_size);
    CellPass pass{layers_[s.cell].forward, layers_[s.cell].states, T_, B_, h.data()};
    fusion_.hand_bits(layers_, output_, mem_, s.cell, s.rows, features(s.cell), pass);
    conv2d_forward_events(events_[i], w, b, nullptr, src.shape, l, pool, &pass, in_bits, bit_words);
    fusion_.fused(s.cell);
  } else {
    sized(mem_, s.y, s.y_size);
    fused.y = s.y.data();  // (no pool: unused)
    if (events)
      conv2d_forward_events(events_[i], w, b, s.y.data(), src.shape, l, pool, nullptr, in_bits,
                            bit_words);
    else
      conv2d_forward(s.in, w, b, s.y.data(), s.rows, src.shape, l, pool);
  }
}

void Network::forward_maxpool(const ForwardStep &s) {
  if (!forward_only_) argmax_[s.i].resize(s.rows * elements(s.l.shape));
  maxpool_forward(s.in, s.y.data(), forward_only_ ? nullptr : argmax_[s.i].data(), s.rows,
                  s.src.shape, s.l);
}

void Network::forward_avgpool(const ForwardStep &s) {
  avgpool_forward(s.in, s.y.data(), s.rows, s.src.shape, s.l);
}

void Network::forward_flatten(const ForwardStep &s) {
  std::copy(s.in, s.in + s.in_n, s.y.begin());
}

void Network::forward_dropout(const ForwardStep &s) {
  const int i = s.i;
  const float *in = s.in;
  std::vector<float> &y = s.y;
  if (!training_ || s.l.rate <= 0) {
    std::copy(in, in + s.in_n, y.begin());
    mask_[i].clear();
  } else {
    draw_dropout_mask(i, mask_[i], static_cast<size_t>(s.in_n));
    for (int64_t k = 0; k < s.in_n; ++k) y[k] = in[k] * mask_[i][k];
  }
}

void Network::forward_cell(const ForwardStep &s) {
  const int i = s.i;
  const LayerSpec &l = s.l;
  if (fusion_.take_fused(i)) return;  // computed with its synaptic layer
  const int64_t T = T_, n = B_ * elements(l.shape);
  // every step's states when backward or a membrane readout reads them; only the latest
  // step when no backward follows, or when the cell is expected to be recomputed (its
  // consumers took the event path last time; if one does not this time, backward reruns
  // the scan for the states alone)
  const bool all_steps = i == output_ || (!forward_only_ && !(training_ && recomputable(i)));
  sized(mem_, post_[i], static_cast<size_t>((all_steps ? T : 1) * l.states * n));
  float *out = s.y.data(), *post = post_[i].data();
  // (a segment after the first: from its boundary)
  cell_scan_forward(l, s.in, out, post, T, n, n, all_steps ? l.states * n : 0, seg_.prev(i, l, n));
  seg_.save(i, l, out, post + (all_steps ? (T - 1) * l.states * n : 0), T, n);
}

}  // namespace snnc::rt::nn
