// ExprEmitter.h — turns IR expressions into LLVM instructions.
//
// Values are doubles; comparisons and logic produce 0.0/1.0 so every expression has one
// type, and instcombine removes the conversions. Math functions become LLVM intrinsics
// where one exists (so loops vectorize), integer powers become multiplications, and
// uniform/normal call the runtime's seeded stream.
#pragma once
#include <llvm/IR/IRBuilder.h>

#include <map>
#include <string>

#include "Expr.h"

namespace snnc::backends {

struct RuntimeFns {
  llvm::FunctionCallee uniform, normal, propagator, poisson, spikes, trace, delay_push, delay_take,
      stimulus;
};

/// A propagator matrix stored in `derived` at `offset`, `cols` entries per row.
struct MatrixRef {
  llvm::Value *base = nullptr;
  int offset = 0;
  int cols = 0;
};

struct ExprEnv {
  std::map<std::string, llvm::Value *> vars;
  std::map<std::string, MatrixRef> matrices;
};

class ExprEmitter {
 public:
  /// `fp` is the floating-point type of every value (double for simulations, float for
  /// training kernels); null means double.
  ExprEmitter(llvm::IRBuilder<> &b, const RuntimeFns &rt, llvm::Value *rt_ctx,
              llvm::Type *fp = nullptr)
      : b_(b), rt_(rt), ctx_(rt_ctx), fp_(fp ? fp : b.getDoubleTy()) {}
  llvm::Value *emit(const ir::ExprPtr &e, const ExprEnv &env);

 private:
  llvm::IRBuilder<> &b_;
  const RuntimeFns &rt_;
  llvm::Value *ctx_;
  llvm::Type *fp_;

  llvm::Value *boolean(llvm::Value *i1);
  llvm::Value *truth(llvm::Value *d);
  llvm::Value *intrinsic(unsigned id, std::vector<llvm::Value *> args);
  llvm::Value *libm(const char *name, llvm::Value *arg);
  llvm::Value *call(const ir::Expr &e, const ExprEnv &env);
};

}  // namespace snnc::backends
