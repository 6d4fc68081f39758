// IR units: expression algebra, printer/parser round trip, verifier, passes.
#include <gtest/gtest.h>

#include <cmath>

#include "ExprUtils.h"
#include "IRParser.h"
#include "IRPrinter.h"
#include "Pass.h"
#include "Verifier.h"

using namespace snnc;
using namespace snnc::ir;

namespace {

std::optional<Module> parse(const std::string &text, int *errors = nullptr) {
  auto buf = std::make_shared<SourceBuffer>("test.ir", text);
  DiagnosticEngine diags(buf, false);
  auto m = parse_module(*buf, diags);
  if (m && !verify(*m, diags)) m.reset();
  if (errors) *errors = diags.error_count();
  return m;
}

const char *kLif = R"(module lif {
  sim dt: s = 0.1[ms]
  sim duration: s = 1[s]
  seed 3
  population n : LIF size 2 method auto {
    param tau: s = 10[ms]
    param v_th: V = -50[mV]
    param t_ref: s = 2[ms]
    state v: V = -65[mV]
    input I: V
    ode v = (-0.065 - v + I) / tau
    threshold v > v_th
    reset {
      set v = -0.065
    }
    refractory t_ref clamp [v]
  }
  record spikes n
}
)";

double eval_at(const ExprPtr &e, std::map<std::string, double> env) {
  return evaluate(e, [&](const std::string &n) { return env.at(n); });
}

}  // namespace

TEST(Expr, PrintsWithMinimalParentheses) {
  auto e = (var("a") + var("b")) * var("c") - var("d") / (var("e") - var("f"));
  EXPECT_EQ(to_string(e), "(a + b) * c - d / (e - f)");
  EXPECT_EQ(to_string(binary(Op::Sub, var("a"), var("b") - var("c"))), "a - (b - c)");
  EXPECT_EQ(to_string(quantity(20, "ms")), "20[ms]");
  EXPECT_EQ(to_string(select(binary(Op::Gt, var("v"), num(1)), num(0), var("v"))), "v > 1 ? 0 : v");
}

TEST(Expr, SimplifyFoldsConstantsAndIdentities) {
  EXPECT_EQ(to_string(simplify(num(2) * num(3) + var("x") * num(1))), "6 + x");
  EXPECT_EQ(to_string(simplify(var("x") * num(0) + var("y"))), "y");
  EXPECT_EQ(to_string(simplify(var("x") - var("x"))), "0");
  EXPECT_EQ(to_string(simplify(call("exp", {num(0)}))), "1");
  // random draws are never folded
  EXPECT_EQ(to_string(simplify(call("uniform", {num(0), num(1)}))), "uniform(0, 1)");
}

TEST(Expr, DifferentiateMatchesFiniteDifferences) {
  auto x = var("x");
  std::vector<ExprPtr> fs = {
      x * x * x,
      call("exp", {num(2) * x}),
      call("tanh", {x}) / (num(1) + x * x),
      binary(Op::Pow, x, num(4)),
      call("log", {x}) * call("sqrt", {x}),
      num(0.1) * (x + num(40)) / (num(1) - call("exp", {unary(Op::Neg, (x + num(40)) / num(10))}))};
  for (const auto &f : fs) {
    ExprPtr df = differentiate(f, "x");
    for (double at : {0.3, 1.7, 2.5}) {
      double h = 1e-6;
      double fd = (eval_at(f, {{"x", at + h}}) - eval_at(f, {{"x", at - h}})) / (2 * h);
      EXPECT_NEAR(eval_at(df, {{"x", at}}), fd, 1e-5 * std::max(1.0, std::fabs(fd)))
          << to_string(f);
    }
  }
  EXPECT_EQ(to_string(differentiate(var("a") * x + var("b"), "x")), "a");
}

TEST(IRText, PrintParsePrintIsStable) {
  auto m = parse(kLif);
  ASSERT_TRUE(m);
  std::string once = print(*m);
  EXPECT_EQ(once, kLif);
  auto again = parse(once);
  ASSERT_TRUE(again);
  EXPECT_EQ(print(*again), once);
}

TEST(IRText, PipelineOutputRoundTrips) {
  auto m = parse(kLif);
  ASSERT_TRUE(m);
  auto buf = std::make_shared<SourceBuffer>("x", "");
  DiagnosticEngine diags(buf, false);
  ASSERT_TRUE(run_pipeline(*m, diags, default_pipeline()));
  std::string text = print(*m);
  auto back = parse(text);
  ASSERT_TRUE(back) << text;
  EXPECT_EQ(print(*back), text);
}

TEST(IRText, ReportsSyntaxErrorsWithLocation) {
  int errors = 0;
  EXPECT_FALSE(parse("module m {\n  sim dt: s = \n}\n", &errors));
  EXPECT_EQ(errors, 1);
  EXPECT_FALSE(parse("module m {\n  bogus\n}\n", &errors));
  EXPECT_FALSE(parse("", &errors));
  EXPECT_FALSE(parse("module m { sim dt: ms = 1 }", &errors));  // IR units carry no prefix
}

TEST(Verifier, CatchesUnknownNamesAndBadTargets) {
  std::string text = kLif;
  text.replace(text.find("(-0.065 - v + I)"), 16, "(-0.065 - w + I)");
  int errors = 0;
  EXPECT_FALSE(parse(text, &errors));
  EXPECT_GE(errors, 1);
  std::string rec = kLif;
  rec.replace(rec.find("record spikes n"), 15, "record spikes q");
  EXPECT_FALSE(parse(rec, &errors));
}

TEST(Passes, FoldUnitsConvertsToSI) {
  auto m = parse(kLif);
  ASSERT_TRUE(m);
  auto buf = std::make_shared<SourceBuffer>("x", "");
  DiagnosticEngine diags(buf, false);
  ASSERT_TRUE(run_pipeline(*m, diags, {"fold-units"}));
  EXPECT_EQ(to_string(m->populations[0].params[0].value), "0.01");
  EXPECT_EQ(to_string(m->populations[0].states[0].init), "-0.065");
}

TEST(Passes, LinearOdeGetsExactPropagator) {
  auto m = parse(kLif);
  ASSERT_TRUE(m);
  auto buf = std::make_shared<SourceBuffer>("x", "");
  DiagnosticEngine diags(buf, false);
  ASSERT_TRUE(run_pipeline(*m, diags, {"fold-units", "discretise-odes"}));
  const Population &p = m->populations[0];
  EXPECT_EQ(p.method, Method::Exact);
  ASSERT_EQ(p.propagators.size(), 1u);
  EXPECT_EQ(to_string(p.propagators[0].a[0][0]), "-1 / tau");
  EXPECT_TRUE(p.odes.empty());
  ASSERT_EQ(p.step.size(), 2u);
  EXPECT_EQ(p.step[1].name, "v");
}

TEST(Passes, ExactRequestOnNonlinearOdeIsAnError) {
  std::string text = kLif;
  text.replace(text.find("method auto"), 11, "method exact");
  text.replace(text.find("(-0.065 - v + I)"), 16, "(-0.065 - v * v + I)");
  auto m = parse(text);
  ASSERT_TRUE(m);
  auto buf = std::make_shared<SourceBuffer>("x", "");
  DiagnosticEngine diags(buf, false);
  EXPECT_FALSE(run_pipeline(*m, diags, {"fold-units", "discretise-odes"}));
  ASSERT_EQ(diags.error_count(), 1);
  EXPECT_NE(diags.diagnostics()[0].message.find("not linear"), std::string::npos);
}

TEST(Passes, FuseBuildsOneKernelWithRefractoryClamp) {
  auto m = parse(kLif);
  ASSERT_TRUE(m);
  auto buf = std::make_shared<SourceBuffer>("x", "");
  DiagnosticEngine diags(buf, false);
  ASSERT_TRUE(run_pipeline(*m, diags, default_pipeline()));
  const Population &p = m->populations[0];
  ASSERT_TRUE(p.fused);
  EXPECT_FALSE(p.threshold);
  std::string kernel;
  for (const auto &s : p.kernel) kernel += (s.kind == Stmt::Spike ? "spike" : s.name) + ";";
  EXPECT_EQ(kernel, "_refr;_next_v;v;_fire;v;_refrac;spike;");
  bool has_refrac = false;
  for (const auto &s : p.states) has_refrac |= s.name == "_refrac";
  EXPECT_TRUE(has_refrac);
}
