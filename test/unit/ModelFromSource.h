// ModelFromSource.h — for unit tests: a layer network of .snn source text, parsed, checked,
// lowered, differentiated and optimized as `snnc run` does (test failures on diagnostics).
#pragma once
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "LowerModel.h"
#include "ModelPass.h"
#include "Parser.h"
#include "Sema.h"
#include "passes/Autodiff.h"

namespace snnc::test {

/// snnTorch's Leaky neuron (subtractive reset, fast-sigmoid surrogate), for test networks.
inline const std::string kLeakyNeuron = R"(
neuron Leaky(beta: real = 0.9, threshold: real = 1.0) {
  state mem: real = 0
  update { mem = beta * mem + I - spiked * threshold }
  spike when mem > threshold surrogate fast_sigmoid(slope = 25)
}
)";

inline ir::Model model_from_source(const std::string &source, const std::string &network,
                                   bool optimize = true) {
  auto buf = std::make_shared<SourceBuffer>(network + ".snn", source);
  DiagnosticEngine diags(buf);
  auto file = frontend::parse_file(*buf, diags);
  EXPECT_TRUE(file && frontend::check(*file, diags));
  if (!file) return {};
  auto model = frontend::lower_model(*file, network, {}, diags);
  EXPECT_TRUE(model && ir::differentiate_cells(*model, diags));
  if (!model) return {};
  if (optimize) ir::optimize_model(*model);
  return *model;
}

}  // namespace snnc::test
