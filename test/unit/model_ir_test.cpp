// Model IR: the text form reads back (every example with a layer network, before and after
// the model pipeline), the verifier accepts what the frontend and the passes produce and
// refuses broken models with clear messages, the parser reports errors with locations.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "LowerExperiment.h"
#include "LowerModel.h"
#include "ModelFromSource.h"
#include "ModelParser.h"
#include "ModelPass.h"
#include "ModelVerifier.h"
#include "Parser.h"
#include "Sema.h"

using namespace snnc;

namespace {

std::string read(const std::filesystem::path &path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// The models of a source file as lowered (an experiment's model and twin, or every layer
/// network), before any model pass; none for a file of simulations only.
std::vector<ir::Model> lowered_models(const std::string &name, const std::string &source) {
  auto buf = std::make_shared<SourceBuffer>(name, source);
  DiagnosticEngine diags(buf);
  auto file = frontend::parse_file(*buf, diags);
  EXPECT_TRUE(file && frontend::check(*file, diags)) << name;
  if (!file) return {};
  std::vector<ir::Model> models;
  if (!file->experiments.empty()) {
    auto spec = frontend::lower_experiment(*file, "", diags, false);
    EXPECT_TRUE(spec) << name;
    if (!spec) return {};
    models.push_back(spec->model);
    if (spec->compare) models.push_back(*spec->compare);
    return models;
  }
  for (const auto &net : file->networks) {
    if (net.layers.empty()) continue;
    auto m = frontend::lower_model(*file, net.name, {}, diags, net.loc);
    EXPECT_TRUE(m) << name << ": " << net.name;
    if (m) models.push_back(std::move(*m));
  }
  return models;
}

std::vector<ir::Model> parse(const std::string &text, bool expect_ok = true) {
  auto buf = std::make_shared<SourceBuffer>("model.mir", text);
  DiagnosticEngine diags(buf, false);
  auto models = ir::parse_models(*buf, diags);
  EXPECT_EQ(models.has_value(), expect_ok) << text;
  for (const auto &d : diags.diagnostics()) ADD_FAILURE() << diags.render(d);
  return models ? *models : std::vector<ir::Model>{};
}

std::string print(const std::vector<ir::Model> &models) {
  std::string text;
  for (const auto &m : models) text += ir::print(m);
  return text;
}

/// The verifier's messages for a model (empty: it verifies).
std::string verify_messages(const ir::Model &m) {
  auto buf = std::make_shared<SourceBuffer>("model.mir", "");
  DiagnosticEngine diags(buf, false);
  const bool ok = ir::verify(m, diags);
  std::string text;
  for (const auto &d : diags.diagnostics()) text += d.message + "\n";
  EXPECT_EQ(ok, text.empty());
  return text;
}

void run_pipeline(ir::Model &m) {
  auto buf = std::make_shared<SourceBuffer>("model.mir", "");
  DiagnosticEngine diags(buf, false);
  EXPECT_TRUE(ir::run_model_pipeline(m, diags, ir::default_model_pipeline())) << m.name;
  for (const auto &d : diags.diagnostics()) ADD_FAILURE() << diags.render(d);
}

/// A small CSNN-shaped model after the pipeline, to break in the verifier tests.
ir::Model csnn() {
  return test::model_from_source(test::kLeakyNeuron + R"(
network Net {
  input x: [1, 12, 12]
  c = x |> conv2d(4, kernel = 3) |> maxpool(2) |> Leaky
  output y = c |> flatten |> linear(10) |> Leaky
}
)",
                                 "Net");
}

TEST(ModelText, ExamplesRoundTripBeforeAndAfterThePipeline) {
  int examples = 0;
  for (const auto &entry : std::filesystem::directory_iterator(SNNC_SOURCE_DIR "/examples")) {
    if (entry.path().extension() != ".snn") continue;
    SCOPED_TRACE(entry.path().filename().string());
    std::vector<ir::Model> models = lowered_models(entry.path().string(), read(entry.path()));
    if (models.empty()) continue;
    ++examples;
    for (const auto &m : models) EXPECT_EQ(verify_messages(m), "");
    const std::string lowered = print(models);
    std::vector<ir::Model> reparsed = parse(lowered);
    EXPECT_EQ(print(reparsed), lowered);

    for (auto &m : models) run_pipeline(m);
    const std::string optimized = print(models);
    EXPECT_NE(optimized, lowered);
    EXPECT_EQ(print(parse(optimized)), optimized);
    // the pipeline on the parsed text gives what it gives on the lowered models
    for (auto &m : reparsed) run_pipeline(m);
    EXPECT_EQ(print(reparsed), optimized);
  }
  EXPECT_GE(examples, 3);  // mnist_csnn, fashion_csnn, mnist_fc
}

TEST(ModelText, OptimizeModelIsThePipelineAfterAutodiff) {
  ir::Model differentiated =
      test::model_from_source(test::kLeakyNeuron + R"(
network Net {
  input x: [1, 12, 12]
  c = x |> conv2d(4, kernel = 3) |> maxpool(2) |> Leaky
  output y = c |> flatten |> linear(10) |> Leaky
}
)",
                              "Net", /*optimize=*/false);
  ir::Model optimized = differentiated;
  ir::optimize_model(optimized);
  EXPECT_EQ(optimized.layers[1].fused_pool, 2);
  EXPECT_GE(optimized.layers[1].event_threshold, 0);
  EXPECT_EQ(ir::print(optimized), ir::print(csnn()));
}

TEST(ModelText, ParserReportsErrorsWithLocation) {
  auto buf = std::make_shared<SourceBuffer>("bad.mir",
                                            "model Net {\n"
                                            "  layer x = input() : [4]\n"
                                            "  layer y = linear(x, ten) : [10]\n"
                                            "}\n");
  DiagnosticEngine diags(buf, false);
  EXPECT_FALSE(ir::parse_models(*buf, diags));
  ASSERT_EQ(diags.diagnostics().size(), 1u);
  EXPECT_EQ(diags.diagnostics()[0].loc.line, 3);
  EXPECT_EQ(diags.diagnostics()[0].loc.col, 23);
  EXPECT_EQ(diags.diagnostics()[0].message, "expected an integer number of outputs, found 'ten'");
}

TEST(ModelText, TellsModelIRFromSimulationIR) {
  EXPECT_TRUE(ir::is_model_text("// a comment\nmodel Net {\n}\n"));
  EXPECT_FALSE(ir::is_model_text("module cuba {\n}\n"));
  EXPECT_FALSE(ir::is_model_text(""));
}

TEST(ModelVerifier, AcceptsTheFrontendsModels) {
  EXPECT_EQ(verify_messages(csnn()), "");
}

TEST(ModelVerifier, LayerOrderAndIndices) {
  ir::Model m = csnn();
  m.layers[1].input = 3;  // the conv reads its own cell
  EXPECT_NE(verify_messages(m).find("layer 'c.conv2d': reads 'c', which comes after it"),
            std::string::npos);
  m = csnn();
  m.output = -1;
  EXPECT_NE(verify_messages(m).find("model 'Net' has no output layer"), std::string::npos);
  m = csnn();
  m.layers[3].cell = 7;
  EXPECT_NE(verify_messages(m).find("layer 'c': no cell (cell index 7)"), std::string::npos);
}

TEST(ModelVerifier, ShapesFollowFromKinds) {
  ir::Model m = csnn();
  m.layers[1].shape = {4, 9, 9};
  EXPECT_NE(verify_messages(m).find("a conv2d of input [1, 12, 12] gives [4, 10, 10], not "
                                    "[4, 9, 9]"),
            std::string::npos);
  m = csnn();
  m.layers[5].out_features = 12;  // y.linear
  EXPECT_NE(verify_messages(m).find("layer 'y.linear': a linear of input [100] gives [12]"),
            std::string::npos);
}

TEST(ModelVerifier, FusedPoolMustBeTheConvsOnlyNonOverlappingPool) {
  ir::Model m = csnn();
  m.layers[1].fused_pool = 3;  // the cell, not the pool
  EXPECT_NE(verify_messages(m).find("fused_pool 'c' must be a maxpool reading this conv2d"),
            std::string::npos);
  m = csnn();
  m.layers[2].stride = 1;
  m.layers[2].shape = {4, 9, 9};
  m.layers[3].shape = {4, 9, 9};
  m.layers[4].shape = {324};
  EXPECT_NE(verify_messages(m).find("fused_pool 'c.maxpool' overlaps or pads"), std::string::npos);
}

TEST(ModelVerifier, DifferentiatedCellMatchesItsStates) {
  ir::Model m = csnn();
  m.cells[0].next.clear();
  EXPECT_NE(verify_messages(m).find("cell 'c': 0 next expressions for 1 states"),
            std::string::npos);
  m = csnn();
  m.cells[0].backward.pop_back();  // set _a_mem
  EXPECT_NE(verify_messages(m).find("cell 'c': backward does not set '_a_mem'"),
            std::string::npos);
  m = csnn();
  m.cells[0].h = nullptr;
  EXPECT_NE(verify_messages(m).find("cell 'c': differentiated without a surrogate_input"),
            std::string::npos);
  m = csnn();
  m.cells[0].differentiated = false;
  EXPECT_NE(verify_messages(m).find("cell 'c' has derived statements but is not differentiated"),
            std::string::npos);
}

TEST(ModelPasses, RegistryNamesTheDefaultPipeline) {
  for (const auto &name : ir::default_model_pipeline())
    EXPECT_NE(ir::find_model_pass(name), nullptr) << name;
  EXPECT_EQ(ir::default_model_pipeline(),
            (std::vector<std::string>{"autodiff", "fuse-conv-pool", "plan-synapses"}));
  EXPECT_EQ(ir::find_model_pass("fold-units"), nullptr);
}

}  // namespace

namespace {

// Sema's check lowers every experiment through the model pipeline; a command lowering it
// again gets that result, with the same diagnostics reported again.
TEST(LowerExperiment, LowersEachExperimentOncePerFile) {
  auto buf = std::make_shared<SourceBuffer>("e.snn", test::kLeakyNeuron + R"(
neuron Resetting(beta: real = 0.9) {
  state mem: real = 0
  update { mem = beta * mem + I - spiked }
  spike when mem > 1 surrogate fast_sigmoid(slope = 25)
  reset { mem = 0 }
}
network Net(cell: neuron = Leaky) {
  input x: [1, 8, 8]
  c = x |> conv2d(2, kernel = 3) |> maxpool(2) |> cell
  output y = c |> flatten |> linear(10) |> Leaky
}
experiment first {
  data = mnist("unused")
  model = Net(cell = Resetting)
  compare = Net
}
experiment second {
  data = mnist("unused")
  model = Net
}
)");
  DiagnosticEngine diags(buf, false);
  auto file = frontend::parse_file(*buf, diags);
  ASSERT_TRUE(file && frontend::check(*file, diags));
  ASSERT_TRUE(file->lowered);
  const size_t warnings = diags.diagnostics().size();
  ASSERT_EQ(warnings, 1u);  // `reset` is ignored in trainable cells

  auto again = frontend::lower_experiment(*file, "", diags);
  ASSERT_TRUE(again);
  ASSERT_EQ(diags.diagnostics().size(), 2u);
  EXPECT_EQ(diags.diagnostics()[1].message, diags.diagnostics()[0].message);
  EXPECT_EQ(diags.diagnostics()[1].loc.line, diags.diagnostics()[0].loc.line);

  // the same as lowering afresh
  ast::File fresh = *file;
  fresh.lowered = nullptr;
  DiagnosticEngine fresh_diags(buf, false);
  auto expected = frontend::lower_experiment(fresh, "", fresh_diags);
  ASSERT_TRUE(expected && expected->compare && again->compare);
  EXPECT_EQ(ir::print(again->model), ir::print(expected->model));
  EXPECT_EQ(ir::print(*again->compare), ir::print(*expected->compare));
  EXPECT_EQ(again->name, "first");
  EXPECT_EQ(fresh_diags.diagnostics().size(), 1u);

  auto second = frontend::lower_experiment(*file, "second", diags);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->name, "second");
  EXPECT_FALSE(second->compare);
  EXPECT_EQ(diags.diagnostics().size(), 2u);
  // as lowered, before the model passes: not the cached result
  auto lowered = frontend::lower_experiment(*file, "first", diags, false);
  ASSERT_TRUE(lowered);
  EXPECT_FALSE(lowered->model.cells[0].differentiated);
}

}  // namespace
