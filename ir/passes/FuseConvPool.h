// FuseConvPool.h — pass `fuse-conv-pool`: a conv2d whose only consumer is a non-overlapping
// max-pool (kernel = stride, no padding) computes the pool itself.
//
// The conv output is then never stored: the forward pass pools each sample's output while
// it is still in cache and keeps only the pooled values and their winners; the backward
// pass routes each pooled gradient to its winner inside the conv's own gradient loop. For
// the MNIST CSNN (examples/mnist_csnn.snn) that removes the largest tensor of training
// (conv1's output, 12x24x24 per sample and step, and its gradient). The pool layer stays in the IR, marked as computed by
// its conv, so layer names, shapes and checkpoints do not change.
#pragma once
#include "Model.h"

namespace snnc::ir {

/// Returns the number of conv layers that took over their pool.
int fuse_conv_pool(Model &model);

}  // namespace snnc::ir
