// Integrators end to end: textual IR -> passes -> LLVM JIT -> runtime, compared with
// closed-form solutions. Exact integration must be exact to rounding; RK4 fourth order;
// Euler first order.
#include <gtest/gtest.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Target/TargetMachine.h>

#include <cmath>

#include "IRParser.h"
#include "LLVMCodeGen.h"
#include "Optimize.h"
#include "Pass.h"
#include "SimJIT.h"
#include "SimLayout.h"
#include "Verifier.h"

using namespace snnc;

namespace {

/// Simulates a one-population module and returns the trace of its first state variable.
std::vector<double> trace(const std::string &method, const std::string &odes,
                          const std::string &states, double dt, double duration) {
  std::string text = "module t {\n  sim dt: s = " + ir::format_number(dt) +
                     "\n  sim duration: s = " + ir::format_number(duration) +
                     "\n  seed 1\n  population p : T size 1 method " + method +
                     " {\n    param tau: s = 0.01\n" + states + odes +
                     "  }\n  record trace p.x [0]\n}\n";
  auto buf = std::make_shared<SourceBuffer>("t.ir", text);
  DiagnosticEngine diags(buf, false);
  auto m = ir::parse_module(*buf, diags);
  EXPECT_TRUE(m) << text;
  if (!m) return {};
  EXPECT_TRUE(ir::run_pipeline(*m, diags, ir::default_pipeline()));
  auto layout = backends::make_layout(*m);
  auto params = backends::evaluate_params(layout, {});
  auto spec = backends::make_sim_spec(*m, layout, params);
  auto ctx = std::make_unique<llvm::LLVMContext>();
  auto mod = backends::generate_llvm(*m, layout, *ctx);
  auto tm = backends::host_target_machine();
  backends::optimize_module(*mod, *tm);
  backends::SimJIT jit(std::move(mod), std::move(ctx));
  return rt::simulate(spec, params, jit.functions()).traces.at(0);
}

const char *kDecayState = "    state x: 1 = 1\n";
const char *kDecay = "    ode x = -x / tau\n";

double max_error(const std::vector<double> &got, double dt, double (*exact)(double)) {
  double worst = 0;
  // the trace at step n is recorded after the update, i.e. at time (n + 1) dt
  for (size_t n = 0; n < got.size(); ++n)
    worst = std::max(worst, std::fabs(got[n] - exact((n + 1) * dt)));
  return worst;
}

double decay(double t) {
  return std::exp(-t / 0.01);
}
double riccati(double t) {
  return 1.0 / (1.0 + t / 0.01);
}  // dx/dt = -x^2 / tau, x(0) = 1

}  // namespace

TEST(Integrators, ExactIsExactForLinearDecay) {
  auto x = trace("auto", kDecay, kDecayState, 1e-3, 0.05);
  ASSERT_EQ(x.size(), 50u);
  EXPECT_LT(max_error(x, 1e-3, decay), 1e-14);
}

TEST(Integrators, ExponentialEulerIsExactForLinearDecay) {
  auto x = trace("exponential_euler", kDecay, kDecayState, 1e-3, 0.05);
  EXPECT_LT(max_error(x, 1e-3, decay), 1e-14);
}

TEST(Integrators, Rk4IsFourthOrder) {
  const char *ode = "    ode x = -x * x / tau\n";
  double e1 = max_error(trace("rk4", ode, kDecayState, 1e-3, 0.05), 1e-3, riccati);
  double e2 = max_error(trace("rk4", ode, kDecayState, 5e-4, 0.05), 5e-4, riccati);
  EXPECT_LT(e1, 1e-6);
  EXPECT_NEAR(std::log2(e1 / e2), 4.0, 0.3);  // halving dt divides the error by 16
}

TEST(Integrators, EulerIsFirstOrder) {
  double e1 = max_error(trace("euler", kDecay, kDecayState, 1e-4, 0.02), 1e-4, decay);
  double e2 = max_error(trace("euler", kDecay, kDecayState, 5e-5, 0.02), 5e-5, decay);
  EXPECT_NEAR(std::log2(e1 / e2), 1.0, 0.1);
}

TEST(Integrators, ExactCoupledSystemMatchesClosedForm) {
  // x' = a (y - x), y' = -b y with a = 1/tau, b = 1/tau2, x(0) = 0, y(0) = 1:
  // x(t) = a / (a - b) (e^{-b t} - e^{-a t})   (tau = 10 ms, tau2 = 5 ms)
  const char *states = "    param tau2: s = 0.005\n    state x: 1 = 0\n    state y: 1 = 1\n";
  const char *odes = "    ode x = (y - x) / tau\n    ode y = -y / tau2\n";
  auto x = trace("auto", odes, states, 1e-4, 0.05);
  double worst = 0;
  for (size_t n = 0; n < x.size(); ++n) {
    double t = (n + 1) * 1e-4;
    double a = 1 / 0.01, b = 1 / 0.005;
    double exact = a / (a - b) * (std::exp(-b * t) - std::exp(-a * t));
    worst = std::max(worst, std::fabs(x[n] - exact));
  }
  EXPECT_LT(worst, 1e-13);
}
