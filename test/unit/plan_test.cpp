// What the executors are handed: the model plan (JSON round trip of every field, kind names,
// clear errors for malformed plans) and the OpenBLAS kernel set (the choice for unknown CPUs).
#include "Plan.h"

#include <gtest/gtest.h>

#include "BlasCore.h"

using namespace snnc::rt::nn;

TEST(ModelPlan, JsonRoundTripKeepsEveryField) {
  ModelPlan p;
  p.network = "Net";
  p.output = 2;
  p.encoder = "latency";
  p.steps = 7;
  p.seed = 42;
  p.by_membrane = true;
  LayerSpec in;
  in.kind = LayerSpec::Input;
  in.name = "x";
  in.shape = {1, 28, 28};
  LayerSpec conv;
  conv.kind = LayerSpec::Conv2d;
  conv.name = "c1.conv2d";
  conv.input = 0;
  conv.shape = {12, 24, 24};
  conv.channels = 12;
  conv.kernel = 5;
  conv.stride = 1;
  conv.padding = 0;
  conv.synapse = Synapse::Event;
  conv.event_threshold = 0.125;
  conv.fused_pool = 3;
  LayerSpec cell;
  cell.kind = LayerSpec::Cell;
  cell.name = cell.cell = "c1";
  cell.input = 1;
  cell.shape = {12, 24, 24};
  cell.states = 2;
  cell.spiking = true;
  cell.backward_reads_input = false;
  p.layers = {in, conv, cell};
  const ModelPlan q = plan_from_json(plan_to_json(p));
  EXPECT_EQ(plan_to_json(q), plan_to_json(p));
  EXPECT_EQ(q.features(), 784);
  EXPECT_EQ(q.layers[1].synapse, Synapse::Event);
  EXPECT_EQ(q.layers[1].fused_pool, 3);
  EXPECT_EQ(q.layers[2].cell, "c1");
  EXPECT_FALSE(q.layers[2].backward_reads_input);
  EXPECT_EQ(q.encoder, "latency");
  EXPECT_TRUE(q.by_membrane);
}

TEST(ModelPlan, EveryKindHasOneName) {
  for (auto k : {LayerSpec::Input, LayerSpec::Linear, LayerSpec::Conv2d, LayerSpec::MaxPool,
                 LayerSpec::AvgPool, LayerSpec::Flatten, LayerSpec::Dropout, LayerSpec::Cell})
    EXPECT_EQ(layer_kind_from_name(layer_kind_name(k)), k);
  EXPECT_THROW(layer_kind_from_name("lstm"), std::invalid_argument);
}

TEST(ModelPlan, MalformedPlansAreClearErrors) {
  auto message = [](const std::string &text) {
    try {
      plan_from_json(text);
    } catch (const std::runtime_error &e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_NE(message("{").find("malformed model plan"), std::string::npos);
  EXPECT_NE(message(R"({"network":"n"})").find("malformed model plan"), std::string::npos);
  ModelPlan p;
  p.network = "n";
  p.output = 0;
  LayerSpec in;
  in.name = "x";
  in.shape = {3};
  p.layers = {in};
  std::string text = plan_to_json(p);
  EXPECT_EQ(message(text), "accepted");
  std::string bad_kind = text;
  const std::string kind = "\"kind\":\"input\"";
  bad_kind.replace(bad_kind.find(kind), kind.size(), "\"kind\":\"lstm\"");
  EXPECT_NE(message(bad_kind).find("unknown layer kind 'lstm'"), std::string::npos);
  p.output = 5;
  EXPECT_NE(message(plan_to_json(p)).find("output layer 5 does not exist"), std::string::npos);
}

TEST(BlasCore, GenericKernelsAreReplacedByTheCpusBest) {
  // OpenBLAS 0.3.21 on a CPU it does not know (Sapphire Rapids): Prescott
  EXPECT_EQ(better_blas_core_for("Prescott", true, true), "SkylakeX");
  EXPECT_EQ(better_blas_core_for("Prescott", false, true), "Haswell");
  EXPECT_EQ(better_blas_core_for("Sandybridge", false, true), "Haswell");
  EXPECT_EQ(better_blas_core_for("Prescott", false, false), "");
  // a set OpenBLAS chose for a CPU it knows stays
  EXPECT_EQ(better_blas_core_for("Haswell", false, true), "");
  EXPECT_EQ(better_blas_core_for("Zen", false, true), "");
  EXPECT_EQ(better_blas_core_for("SkylakeX", true, true), "");
  EXPECT_EQ(better_blas_core_for("Cooperlake", true, true), "");
  EXPECT_EQ(better_blas_core_for("SapphireRapids", true, true), "");
  EXPECT_FALSE(blas_core().empty());
}
