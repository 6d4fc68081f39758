// OpStats.cpp — counting a synaptic layer's operations.
#include "OpStats.h"

namespace snnc::rt::nn {

void count_synaptic_ops(const LayerSpec &l, const LayerSpec &src, const float *in, int64_t n,
                        int64_t rows, double *accumulates, double *macs) {
  bool binary = true;
  int64_t nonzero = 0;
  for (int64_t k = 0; k < n; ++k) {
    binary &= in[k] == 0.f || in[k] == 1.f;
    nonzero += in[k] != 0.f;
  }
  count_synaptic_ops(l, src, nonzero, binary, rows, accumulates, macs);
}

void count_synaptic_ops(const LayerSpec &l, const LayerSpec &src, int64_t nonzero, bool binary,
                        int64_t rows, double *accumulates, double *macs) {
  double dense;                       // multiply-accumulates of one row (one sample at one step)
  if (l.kind == LayerSpec::Linear) {  // (sparse: the expected kept connections)
    dense = static_cast<double>(elements(src.shape)) * l.out_features * (1 - l.sparsity);
  } else {
    int64_t ckk = src.shape[0] * l.kernel * l.kernel;
    dense = static_cast<double>(ckk) * l.channels * l.shape[1] * l.shape[2];
  }
  if (binary)  // each active input drives its share of the layer's connections
    *accumulates += dense * static_cast<double>(nonzero) / static_cast<double>(elements(src.shape));
  else
    *macs += dense * static_cast<double>(rows);
}

}  // namespace snnc::rt::nn
