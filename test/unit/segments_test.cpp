// Training over time segments (Network::set_segment_steps, gradient checkpointing over
// time): the loss, the output and every parameter gradient equal the whole-sequence step's
// for even and uneven segments, dense and event-driven synapses, spike-count and membrane
// losses, cells with two states and nonzero initial values; the first pass keeps the
// output's states for all steps; reruns replay the first pass's dropout masks; activation
// memory follows the segment length, not T.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "ExpectClose.h"
#include "Loss.h"
#include "ModelCompiler.h"
#include "ModelFromSource.h"
#include "Network.h"
#include "Rng.h"
#include "TrainStep.h"

using namespace snnc;
using namespace snnc::rt::nn;
using snnc::test::expect_close;

namespace {

// a conv layer with its fused pool, a two-state adaptive cell whose threshold state starts
// away from zero, and a membrane-read output cell
const std::string kNet = test::kLeakyNeuron + R"(
neuron ALIF(beta: real = 0.9, rho: real = 0.8, b0: real = 0.3, gamma: real = 0.5) {
  state mem: real = 0.1
  state a: real = 0.2
  update { a = rho * a + (1 - rho) * spiked
           mem = beta * mem + I - spiked * (b0 + gamma * a) }
  spike when mem > b0 + gamma * a surrogate arctan(alpha = 2)
}
network Net {
  input x: [1, 12, 12]
  c = x |> conv2d(8, kernel = 3) |> maxpool(2) |> Leaky(beta = 0.8, threshold = 0.3)
  h = c |> flatten |> dropout(RATE) |> linear(40) |> ALIF
  output y = h |> linear(5) |> Leaky(threshold = 0.3)
}
)";

std::string net_source(double dropout) {
  std::string s = kNet;
  s.replace(s.find("RATE"), 4, std::to_string(dropout));
  return s;
}

std::vector<float> spikes(int64_t n, double density, uint64_t seed) {
  rt::Rng rng(seed, 3);
  std::vector<float> x(n);
  for (float &v : x) v = rng.uniform() < density ? 1.f : 0.f;
  return x;
}

struct Step {
  double loss = 0;
  int64_t correct = 0;
  std::vector<float> out, post;  ///< after forward: the output cell's spikes and states
  std::vector<std::vector<float>> grads;
  size_t buffer_bytes = 0;
};

constexpr int64_t kT = 7, kB = 5, kK = 5;

Step train(const backends::CompiledModel &compiled, int64_t segment, Synapse synapse,
           bool membrane) {
  Network net(compiled.layers(), compiled.output());
  net.init_params(21);
  net.force_synapse(synapse);
  net.set_training(true, 3);
  net.set_segment_steps(segment);
  const auto x = spikes(kT * kB * net.features(0), 0.3, 8);
  const std::vector<int32_t> labels = {0, 1, 2, 3, 4};
  Step s;
  auto r = train_step(net, x.data(), labels.data(), kT, kB, 0,
                      [&](const std::vector<float> &out, const int32_t *l, int64_t B) {
                        s.out = out;
                        s.post = net.post_state(net.output());
                        return membrane ? membrane_cross_entropy_loss(s.post, l, kT, B, kK, 1)
                                        : mse_count_loss(out, l, kT, B, kK, 0.8, 0.2);
                      });
  s.loss = r.loss;
  s.correct = r.correct;
  for (const auto &p : net.params()) s.grads.push_back(p.grad);
  s.buffer_bytes = net.buffer_bytes();
  return s;
}

void expect_same_step(const Step &seg, const Step &whole, const std::string &what) {
  EXPECT_EQ(seg.out, whole.out) << what;  // the same spikes, step by step
  expect_close(seg.post, whole.post, what + ": output states");
  EXPECT_NEAR(seg.loss, whole.loss, 1e-6 * std::abs(whole.loss)) << what;
  EXPECT_EQ(seg.correct, whole.correct) << what;
  for (size_t p = 0; p < whole.grads.size(); ++p)
    expect_close(seg.grads[p], whole.grads[p], what + ": gradient " + std::to_string(p), 1e-4);
}

}  // namespace

TEST(Segments, MatchTheWholeSequence) {
  const ir::Model model = test::model_from_source(net_source(0), "Net");
  backends::CompiledModel compiled(model);
  for (bool membrane : {false, true})
    for (Synapse synapse : {Synapse::Dense, Synapse::Event}) {
      const Step whole = train(compiled, 0, synapse, membrane);
      double gradient_norm = 0;
      for (const auto &g : whole.grads)
        for (float v : g) gradient_norm += static_cast<double>(v) * v;
      ASSERT_GT(gradient_norm, 0) << "the check needs gradients to compare";
      for (int64_t segment : {1, 2, 3, 6}) {  // 7 = 3 + 3 + 1, 6 + 1: uneven too
        const std::string what = std::string(membrane ? "membrane" : "count") + " loss, " +
                                 synapse_name(synapse) + ", segments of " + std::to_string(segment);
        expect_same_step(train(compiled, segment, synapse, membrane), whole, what);
      }
    }
}

TEST(Segments, SegmentsAsLongAsTheSequenceAreTheWholeSequence) {
  const ir::Model model = test::model_from_source(net_source(0), "Net");
  backends::CompiledModel compiled(model);
  const Step whole = train(compiled, 0, Synapse::Auto, false);
  const Step same = train(compiled, kT, Synapse::Auto, false);
  EXPECT_EQ(same.out, whole.out);
  EXPECT_EQ(same.grads, whole.grads);  // not segmented at all: bit for bit
}

// a spiking cell without states still carries its spikes across a boundary
const std::string kStatelessSpiking = test::kLeakyNeuron + R"(
neuron Alternate { spike when I * (1 - spiked) > 0.1 surrogate fast_sigmoid(slope = 25) }
network Net {
  input x: [1, 12, 12]
  h = x |> flatten |> linear(30) |> Alternate
  output y = h |> linear(5) |> Leaky(threshold = 0.3)
}
)";

TEST(Segments, SpikesOfACellWithoutStatesCrossBoundaries) {
  const ir::Model model = test::model_from_source(kStatelessSpiking, "Net");
  backends::CompiledModel compiled(model);
  ASSERT_TRUE(compiled.layers()[3].spiking);
  ASSERT_EQ(compiled.layers()[3].states, 0);
  const Step whole = train(compiled, 0, Synapse::Dense, false);
  for (int64_t segment : {1, 3})
    expect_same_step(train(compiled, segment, Synapse::Dense, false), whole,
                     "segments of " + std::to_string(segment));
}

TEST(Segments, OutsideTrainingTheSequenceRunsWhole) {
  // (an evaluation-mode forward is read step by step afterwards: every step of every cell)
  const ir::Model model = test::model_from_source(net_source(0), "Net");
  backends::CompiledModel compiled(model);
  Network net(compiled.layers(), compiled.output());
  net.init_params(21);
  net.set_segment_steps(2);
  const auto x = spikes(kT * kB * net.features(0), 0.3, 8);
  net.forward(x.data(), kT, kB);
  const int h = 7;  // the ALIF cell
  ASSERT_EQ(compiled.layers()[h].name, "h");
  EXPECT_EQ(net.activation(h).size(), static_cast<size_t>(kT * kB * net.features(h)));
}

TEST(Segments, RerunsReplayTheFirstPassDropoutMasks) {
  const ir::Model model = test::model_from_source(net_source(0.5), "Net");
  backends::CompiledModel compiled(model);
  Network net(compiled.layers(), compiled.output());
  net.init_params(21);
  net.set_training(true, 3);
  const int64_t L = 3;
  net.set_segment_steps(L);
  const auto x = spikes(kT * kB * net.features(0), 0.3, 8);
  const std::vector<float> first = net.forward(x.data(), kT, kB);
  std::vector<float> g(first.size(), 0.25f);
  net.backward(g.data());
  // backward ends with the rerun of the first segment: its output is the first pass's
  // (with other masks the 40 units behind the dropout would fire otherwise)
  const std::vector<float> &rerun = net.activation(net.output());
  ASSERT_EQ(rerun.size(), static_cast<size_t>(L * kB * kK));
  EXPECT_TRUE(std::equal(rerun.begin(), rerun.end(), first.begin()));
  double active = 0;
  for (float v : first) active += v;
  EXPECT_GT(active, 0) << "the output must spike for the comparison to mean anything";
}

TEST(Segments, ActivationMemoryFollowsTheSegmentLength) {
  const ir::Model model = test::model_from_source(net_source(0), "Net");
  backends::CompiledModel compiled(model);
  Network whole(compiled.layers(), compiled.output()), seg(compiled.layers(), compiled.output());
  for (Network *net : {&whole, &seg}) {
    net->init_params(21);
    net->set_training(true, 3);
  }
  seg.set_segment_steps(2);
  const int64_t T = 40;
  const auto x = spikes(T * kB * whole.features(0), 0.3, 8);
  for (Network *net : {&whole, &seg}) {
    const auto &out = net->forward(x.data(), T, kB);
    std::vector<float> g(out.size(), 0.1f);
    net->backward(g.data());
  }
  // the whole sequence holds every step of several layers; segments hold two steps of
  // them, a boundary per segment of the cells and the output for all steps (a third here)
  EXPECT_LT(2 * seg.buffer_bytes(), whole.buffer_bytes())
      << seg.buffer_bytes() << " against " << whole.buffer_bytes();
}
