// Label assignment and voting of sample protocols on hand-made responses.
#include <gtest/gtest.h>

#include "SampleProtocol.h"

namespace snnc::rt {
namespace {

TEST(Protocol, EachNeuronTakesTheClassItAnswersMostOnAverage) {
  // 3 neurons, 2 classes; class 0 shown twice, class 1 once
  std::vector<std::vector<int32_t>> responses = {{4, 0, 1}, {2, 1, 1}, {0, 5, 0}};
  std::vector<int32_t> labels = {0, 0, 1};
  std::vector<int32_t> a = assign_labels(responses, labels, 2, 3);
  // neuron 0: mean 3 for class 0, 0 for class 1; neuron 1: 0.5 vs 5; neuron 2: 1 vs 0
  EXPECT_EQ(a, (std::vector<int32_t>{0, 1, 0}));
}

TEST(Protocol, ASilentNeuronStaysUnassigned) {
  std::vector<int32_t> a = assign_labels({{0, 3}, {0, 1}}, {0, 1}, 2, 2);
  EXPECT_EQ(a, (std::vector<int32_t>{-1, 0}));
}

TEST(Protocol, VoteByTheMeanCountOfEachClassesNeurons) {
  // class 0 has neurons 0 and 1, class 1 has neuron 2
  std::vector<int32_t> assignment = {0, 0, 1};
  EXPECT_EQ(vote({3, 0, 2}, assignment, 2), 1);     // mean 1.5 against 2
  EXPECT_EQ(vote({3, 2, 2}, assignment, 2), 0);     // mean 2.5 against 2
  EXPECT_EQ(vote({0, 0, 0}, assignment, 2), 0);     // a tie goes to the first class
  EXPECT_EQ(vote({1, 1, 1}, {-1, -1, -1}, 2), -1);  // nobody assigned: no answer
}

}  // namespace
}  // namespace snnc::rt

namespace snnc::rt {
namespace {

TEST(Protocol, RidgeReadoutSeparatesLinearlySeparableClasses) {
  // class = which of two features is larger; a bias-free linear rule separates them
  std::vector<std::vector<double>> x;
  std::vector<int32_t> labels;
  for (int k = 0; k < 40; ++k) {
    double a = (k % 7) + 1, b = (k % 5) + 0.5;
    x.push_back({a, b});
    labels.push_back(a > b ? 0 : 1);
  }
  std::vector<double> w = fit_readout(x, labels, 2, 1e-6);
  ASSERT_EQ(w.size(), 6u);  // (2 features + bias) x 2 classes
  int correct = 0;
  for (size_t k = 0; k < x.size(); ++k) correct += read_out(w, x[k], 2) == labels[k];
  EXPECT_GE(correct, 38);
  EXPECT_EQ(read_out(w, {9, 1}, 2), 0);
  EXPECT_EQ(read_out(w, {1, 9}, 2), 1);
}

}  // namespace
}  // namespace snnc::rt
