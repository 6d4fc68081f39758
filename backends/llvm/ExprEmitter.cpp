// ExprEmitter.cpp — expression-to-LLVM lowering rules.
#include "ExprEmitter.h"

#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/Module.h>

#include <cmath>
#include <stdexcept>

namespace snnc::backends {

using namespace llvm;
using ir::ExprKind;
using ir::Op;

Value *ExprEmitter::boolean(Value *i1) {
  return b_.CreateUIToFP(i1, fp_);
}
Value *ExprEmitter::truth(Value *d) {
  return b_.CreateFCmpUNE(d, ConstantFP::get(fp_, 0.0));
}

Value *ExprEmitter::intrinsic(unsigned id, std::vector<Value *> args) {
  Module *m = b_.GetInsertBlock()->getModule();
  Function *f = Intrinsic::getDeclaration(m, id, {fp_});
  return b_.CreateCall(f, args);
}

Value *ExprEmitter::libm(const char *name, Value *arg) {
  Module *m = b_.GetInsertBlock()->getModule();
  std::string fname = fp_->isFloatTy() ? std::string(name) + "f" : std::string(name);
  FunctionCallee f = m->getOrInsertFunction(fname, fp_, fp_);
  if (auto *fn = dyn_cast<Function>(f.getCallee())) {
    // pure: errno is never read, so calls with the same argument may be merged and
    // hoisted out of the neuron loop (expm1 of a parameter-only rate)
    fn->setDoesNotThrow();
    fn->setDoesNotAccessMemory();
    fn->setWillReturn();
  }
  return b_.CreateCall(f, {arg});
}

Value *ExprEmitter::emit(const ir::ExprPtr &e, const ExprEnv &env) {
  Type *f64 = fp_;
  switch (e->kind) {
    case ExprKind::Number:
      if (!e->unit.empty()) throw std::logic_error("codegen met an unfolded unit");
      return ConstantFP::get(f64, e->value);
    case ExprKind::Var: {
      auto it = env.vars.find(e->name);
      if (it == env.vars.end()) throw std::logic_error("codegen: unbound name '" + e->name + "'");
      return it->second;
    }
    case ExprKind::Index: {
      auto it = env.matrices.find(e->name);
      if (it == env.matrices.end())
        throw std::logic_error("codegen: unbound matrix '" + e->name + "'");
      const MatrixRef &m = it->second;
      Value *slot = b_.CreateConstInBoundsGEP1_64(f64, m.base, m.offset + e->row * m.cols + e->col);
      return b_.CreateLoad(f64, slot,
                           e->name + "." + std::to_string(e->row) + "." + std::to_string(e->col));
    }
    case ExprKind::Unary: {
      Value *a = emit(e->args[0], env);
      return e->op == Op::Neg ? b_.CreateFNeg(a) : boolean(b_.CreateNot(truth(a)));
    }
    case ExprKind::Select: {
      Value *c = truth(emit(e->args[0], env));
      return b_.CreateSelect(c, emit(e->args[1], env), emit(e->args[2], env));
    }
    case ExprKind::Call:
      return call(*e, env);
    case ExprKind::Binary:
      break;
  }
  Value *a = emit(e->args[0], env);
  if (e->op == Op::Pow && ir::is_constant(e->args[1]) &&
      e->args[1]->value == std::floor(e->args[1]->value) && std::fabs(e->args[1]->value) <= 16) {
    int n = static_cast<int>(e->args[1]->value);
    Value *result = ConstantFP::get(f64, 1.0);
    for (int i = 0; i < std::abs(n); ++i) result = i == 0 ? a : b_.CreateFMul(result, a);
    return n < 0 ? b_.CreateFDiv(ConstantFP::get(f64, 1.0), result) : result;
  }
  Value *b = emit(e->args[1], env);
  switch (e->op) {
    case Op::Add:
      return b_.CreateFAdd(a, b);
    case Op::Sub:
      return b_.CreateFSub(a, b);
    case Op::Mul:
      return b_.CreateFMul(a, b);
    case Op::Div:
      return b_.CreateFDiv(a, b);
    case Op::Pow:
      return intrinsic(Intrinsic::pow, {a, b});
    case Op::Lt:
      return boolean(b_.CreateFCmpOLT(a, b));
    case Op::Le:
      return boolean(b_.CreateFCmpOLE(a, b));
    case Op::Gt:
      return boolean(b_.CreateFCmpOGT(a, b));
    case Op::Ge:
      return boolean(b_.CreateFCmpOGE(a, b));
    case Op::Eq:
      return boolean(b_.CreateFCmpOEQ(a, b));
    case Op::Ne:
      return boolean(b_.CreateFCmpUNE(a, b));
    case Op::And:
      return boolean(b_.CreateAnd(truth(a), truth(b)));
    case Op::Or:
      return boolean(b_.CreateOr(truth(a), truth(b)));
    default:
      throw std::logic_error("codegen: bad binary operator");
  }
}

Value *ExprEmitter::call(const ir::Expr &e, const ExprEnv &env) {
  Type *f64 = fp_;
  const std::string &f = e.name;
  if (f == "uniform" || f == "normal") {
    if (!ctx_) throw std::logic_error("codegen: random value outside initialisation");
    Value *a = emit(e.args[0], env), *b = emit(e.args[1], env);
    if (f == "uniform") {
      Value *u = b_.CreateCall(rt_.uniform, {ctx_});
      return b_.CreateFAdd(a, b_.CreateFMul(b_.CreateFSub(b, a), u));
    }
    return b_.CreateFAdd(a, b_.CreateFMul(b, b_.CreateCall(rt_.normal, {ctx_})));
  }
  std::vector<Value *> args;
  for (const auto &a : e.args) args.push_back(emit(a, env));
  if (f == "exp") return intrinsic(Intrinsic::exp, args);
  if (f == "log") return intrinsic(Intrinsic::log, args);
  if (f == "sqrt") return intrinsic(Intrinsic::sqrt, args);
  if (f == "abs") return intrinsic(Intrinsic::fabs, args);
  if (f == "sin") return intrinsic(Intrinsic::sin, args);
  if (f == "cos") return intrinsic(Intrinsic::cos, args);
  if (f == "floor") return intrinsic(Intrinsic::floor, args);
  if (f == "round") return intrinsic(Intrinsic::round, args);
  if (f == "pow") return intrinsic(Intrinsic::pow, args);
  if (f == "min") return intrinsic(Intrinsic::minnum, args);
  if (f == "max") return intrinsic(Intrinsic::maxnum, args);
  if (f == "clip")
    return intrinsic(Intrinsic::minnum,
                     {intrinsic(Intrinsic::maxnum, {args[0], args[1]}), args[2]});
  if (f == "tanh") return libm("tanh", args[0]);
  if (f == "expm1") return libm("expm1", args[0]);
  if (f == "heaviside") return boolean(b_.CreateFCmpOGT(args[0], ConstantFP::get(f64, 0.0)));
  if (f == "sigmoid") {
    Value *ex = intrinsic(Intrinsic::exp, {b_.CreateFNeg(args[0])});
    return b_.CreateFDiv(ConstantFP::get(f64, 1.0), b_.CreateFAdd(ConstantFP::get(f64, 1.0), ex));
  }
  throw std::logic_error("codegen: unknown function '" + f + "'");
}

}  // namespace snnc::backends
