// CellCodeGen.cpp — forward and backward scan kernels of every cell.
#include "CellCodeGen.h"

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Module.h>

#include "ExprEmitter.h"
#include "ExprUtils.h"

namespace snnc::backends {
namespace {

using namespace llvm;

class CellCodeGen {
 public:
  /// Where step t finds the previous step: initial values at t == 0 (Initial: the plain
  /// kernels), prev (FromPrev: the peeled first step of the _from kernels), or the step
  /// before (Loaded: the other steps of the _from kernels).
  enum class Previous { Initial, FromPrev, Loaded };

  CellCodeGen(const ir::Cell &c, Module &m) : c_(c), m_(m), b_(m.getContext()) {
    f32_ = b_.getFloatTy();
    i64_ = b_.getInt64Ty();
    ptr_ = b_.getPtrTy();
    S_ = static_cast<int64_t>(c.states.size());
  }

  /// cell_fwd.c, or with `from` cell_fwd_from.c: the same scan starting from the states and
  /// spikes in `prev` ([S][ld] then [ld]) instead of the initial values and no spikes.
  void forward(bool from) {
    std::vector<Type *> args{ptr_, ptr_, ptr_, i64_, i64_, i64_, i64_, i64_};
    if (from) args.push_back(ptr_);
    Function *f = define((from ? "cell_fwd_from." : "cell_fwd.") + c_.name, args);
    Value *I = f->getArg(0), *out = f->getArg(1), *post = f->getArg(2), *T = f->getArg(3),
          *N = f->getArg(4);
    Value *LD = f->getArg(5), *out_stride = f->getArg(6), *post_stride = f->getArg(7);
    Value *prev = from ? f->getArg(8) : nullptr;
    // a stride of 0 selects a loop nest where it is the constant 0: the previous step's slot
    // is then visibly this step's, so the loop over elements vectorizes (with a run-time 0
    // the vectorizer's overlap check would send it to the scalar loop)
    auto zero_or = [&](Value *stride, const char *name, auto &&emit) {
      auto *zero_block = BasicBlock::Create(m_.getContext(), std::string(name) + "_zero", f);
      auto *other = BasicBlock::Create(m_.getContext(), std::string(name) + "_other", f);
      b_.CreateCondBr(b_.CreateICmpEQ(stride, b_.getInt64(0)), zero_block, other);
      b_.SetInsertPoint(zero_block);
      emit(b_.getInt64(0));
      b_.SetInsertPoint(other);
      emit(stride);
    };
    zero_or(out_stride, "out_stride", [&](Value *os) {
      zero_or(post_stride, "post_stride",
              [&](Value *ps) { forward_loops(I, out, post, T, N, LD, os, ps, prev); });
    });
  }

  /// The time loop; with `prev` its first step is peeled off and reads the previous states
  /// and spikes from prev, the others from the step before (no select on t == 0).
  void forward_loops(Value *I, Value *out, Value *post, Value *T, Value *N, Value *LD,
                     Value *out_stride, Value *post_stride, Value *prev) {
    if (prev) {  // (T >= 1)
      auto [n, n_exit] = loop(b_.getInt64(0), N, "n0", false);
      forward_step(b_.getInt64(0), n, I, out, post, LD, out_stride, post_stride, Previous::FromPrev,
                   prev);
      close(n, n_exit);
    }
    auto [t, t_exit] = loop(b_.getInt64(prev ? 1 : 0), T, "t", false);
    auto [n, n_exit] = loop(b_.getInt64(0), N, "n", false);
    forward_step(t, n, I, out, post, LD, out_stride, post_stride,
                 prev ? Previous::Loaded : Previous::Initial, prev);
    close(n, n_exit);
    close(t, t_exit);
    b_.CreateRetVoid();
  }

  /// Step t of element n, finding the previous step as `mode` says.
  void forward_step(Value *t, Value *n, Value *I, Value *out, Value *post, Value *LD,
                    Value *out_stride, Value *post_stride, Previous mode, Value *prev) {
    ExprEnv env = constants();
    env.vars["I"] = load(I, b_.CreateAdd(b_.CreateMul(t, LD), n));
    Value *out_at = b_.CreateAdd(b_.CreateMul(t, out_stride), n);
    if (c_.output) {
      store(ExprEmitter(b_, rt_, nullptr, f32_).emit(c_.output, env), out, out_at);
    } else {
      bind_previous(env, t, n, LD, out, out_stride, post, post_stride, mode, prev);
      ExprEmitter e(b_, rt_, nullptr, f32_);
      std::vector<Value *> next;
      for (const auto &x : c_.next) next.push_back(e.emit(x, env));
      for (int64_t j = 0; j < S_; ++j) {
        env.vars["_post_" + c_.states[j].name] = next[j];
        store(next[j], post, state_index(t, j, n, LD, post_stride));
      }
      Value *h = e.emit(c_.h, env);
      store(b_.CreateUIToFP(b_.CreateFCmpOGT(h, zero()), f32_), out, out_at);
    }
  }

  /// cell_bwd.c, or with `from` cell_bwd_from.c, the backward of a scan that started from
  /// `prev` (as cell_fwd_from.c).
  void backward(bool from) {
    std::vector<Type *> args{ptr_, ptr_, ptr_, ptr_, ptr_, ptr_, ptr_, i64_, i64_, i64_};
    if (from) args.push_back(ptr_);
    Function *f = define((from ? "cell_bwd_from." : "cell_bwd.") + c_.name, args);
    Value *I = f->getArg(0), *out = f->getArg(1), *post = f->getArg(2), *g_out = f->getArg(3);
    Value *g_post = f->getArg(4), *g_I = f->getArg(5), *carry = f->getArg(6), *T = f->getArg(7),
          *N = f->getArg(8);
    Value *LD = f->getArg(9);
    Value *prev = from ? f->getArg(10) : nullptr;
    // a null g_post (no loss on the state, the usual case) selects a loop nest without it;
    // g_I == g_out (the input gradient written over the output's, to save a buffer) one
    // that reads and writes through g_I alone, so the pointers stay free of aliasing
    auto *separate = BasicBlock::Create(m_.getContext(), "separate", f);
    auto *in_place = BasicBlock::Create(m_.getContext(), "in_place", f);
    b_.CreateCondBr(b_.CreateICmpEQ(g_out, g_I), in_place, separate);
    for (auto [block, g] : {std::pair{separate, g_out}, std::pair{in_place, g_I}}) {
      b_.SetInsertPoint(block);
      auto *with = BasicBlock::Create(m_.getContext(), "with_g_post", f);
      auto *without = BasicBlock::Create(m_.getContext(), "without_g_post", f);
      b_.CreateCondBr(b_.CreateIsNull(g_post), without, with);
      b_.SetInsertPoint(with);
      backward_loops(I, out, post, g, g_post, g_I, carry, T, N, LD, prev);
      b_.SetInsertPoint(without);
      backward_loops(I, out, post, g, nullptr, g_I, carry, T, N, LD, prev);
    }
  }

  /// The time loop, downwards; with `prev` step 0 is peeled off (as in the forward).
  void backward_loops(Value *I, Value *out, Value *post, Value *g_out, Value *g_post, Value *g_I,
                      Value *carry, Value *T, Value *N, Value *LD, Value *prev) {
    {
      auto [t, t_exit] =
          loop(b_.CreateSub(T, b_.getInt64(1)), b_.getInt64(prev ? 0 : -1), "t", true);
      auto [n, n_exit] = loop(b_.getInt64(0), N, "n", false);
      backward_step(t, n, I, out, post, g_out, g_post, g_I, carry, LD,
                    prev ? Previous::Loaded : Previous::Initial, prev);
      close(n, n_exit);
      close(t, t_exit);
    }
    if (prev) {
      auto [n, n_exit] = loop(b_.getInt64(0), N, "n0", false);
      backward_step(b_.getInt64(0), n, I, out, post, g_out, g_post, g_I, carry, LD,
                    Previous::FromPrev, prev);
      close(n, n_exit);
    }
    b_.CreateRetVoid();
  }

  void backward_step(Value *t, Value *n, Value *I, Value *out, Value *post, Value *g_out,
                     Value *g_post, Value *g_I, Value *carry, Value *LD, Previous mode,
                     Value *prev) {
    ExprEnv env = constants();
    Value *tn = b_.CreateAdd(b_.CreateMul(t, LD), n);
    // the input current and the previous spikes are loaded only if the backward step reads
    // them: the runtime passes null pointers for what it has freed (backward_reads)
    if (backward_reads(c_, "I")) env.vars["I"] = load(I, tn);
    env.vars["_g_spk"] = load(g_out, tn);
    std::vector<Value *> carry_slot;
    if (!c_.output) {
      Value *post_stride = b_.CreateMul(b_.getInt64(S_), LD);
      bind_previous(env, t, n, LD, backward_reads(c_, "spiked") ? out : nullptr, LD, post,
                    post_stride, mode, prev);
      for (int64_t j = 0; j < S_; ++j) {
        env.vars["_post_" + c_.states[j].name] = load(post, state_index(t, j, n, LD, post_stride));
        carry_slot.push_back(b_.CreateAdd(b_.CreateMul(b_.getInt64(j), LD), n));
        // the adjoint of s[t] from later steps plus any loss on the state itself
        Value *a = load(carry, carry_slot.back());
        env.vars["_a_" + c_.states[j].name] =
            g_post ? b_.CreateFAdd(a, load(g_post, state_index(t, j, n, LD, post_stride))) : a;
      }
    }
    ExprEmitter e(b_, rt_, nullptr, f32_);
    std::map<std::string, Value *> sets;
    for (const auto &s : c_.backward) {
      Value *v = e.emit(s.value, env);
      if (s.kind == ir::Stmt::Let)
        env.vars[s.name] = v;
      else
        sets[s.name] = v;
    }
    store(sets.at("_g_I"), g_I, tn);
    for (int64_t j = 0; j < S_; ++j)
      store(sets.at("_a_" + c_.states[j].name), carry, carry_slot[j]);
  }

 private:
  const ir::Cell &c_;
  Module &m_;
  IRBuilder<> b_;
  Type *f32_, *i64_;
  PointerType *ptr_;
  int64_t S_;
  RuntimeFns rt_;

  Function *define(const std::string &name, std::vector<Type *> args) {
    auto *f = Function::Create(FunctionType::get(b_.getVoidTy(), args, false),
                               Function::ExternalLinkage, name, &m_);
    f->addFnAttr(Attribute::NoUnwind);
    for (unsigned i = 0; i < f->arg_size(); ++i)
      if (args[i] == ptr_) f->addParamAttr(i, Attribute::NoAlias);
    b_.SetInsertPoint(BasicBlock::Create(m_.getContext(), "entry", f));
    return f;
  }

  Value *zero() { return ConstantFP::get(f32_, 0.0); }
  Value *load(Value *base, Value *index) {
    return b_.CreateLoad(f32_, b_.CreateInBoundsGEP(f32_, base, index));
  }
  void store(Value *v, Value *base, Value *index) {
    b_.CreateStore(v, b_.CreateInBoundsGEP(f32_, base, index));
  }
  /// post[t][j][n] with `stride` elements between steps (S*ld; 0: one step, rewritten)
  Value *state_index(Value *t, int64_t j, Value *n, Value *ld, Value *stride) {
    return b_.CreateAdd(b_.CreateAdd(b_.CreateMul(t, stride), b_.CreateMul(b_.getInt64(j), ld)), n);
  }

  ExprEnv constants() {
    ExprEnv env;
    for (const auto &p : c_.params) env.vars[p.name] = ConstantFP::get(f32_, p.value->value);
    return env;
  }

  /// Binds s[t-1] and spiked = out[t-1] (see Previous; Initial: the initial values and 0 at
  /// t = 0). With a stride of 0 the previous step is the slot this step then overwrites.
  void bind_previous(ExprEnv &env, Value *t, Value *n, Value *ld, Value *out, Value *out_stride,
                     Value *post, Value *post_stride, Previous mode, Value *prev) {
    if (mode == Previous::FromPrev) {  // prev: [S][ld] states, then [ld] spikes
      for (int64_t j = 0; j < S_; ++j)
        env.vars[c_.states[j].name] = load(prev, b_.CreateAdd(b_.CreateMul(b_.getInt64(j), ld), n));
      if (out) env.vars["spiked"] = load(prev, b_.CreateAdd(b_.CreateMul(b_.getInt64(S_), ld), n));
      return;
    }
    Value *first = mode == Previous::Initial ? b_.CreateICmpEQ(t, b_.getInt64(0)) : nullptr;
    Value *tp = b_.CreateSub(t, b_.getInt64(1));
    if (first) tp = b_.CreateSelect(first, b_.getInt64(0), tp);
    for (int64_t j = 0; j < S_; ++j) {
      Value *loaded = load(post, state_index(tp, j, n, ld, post_stride));
      env.vars[c_.states[j].name] =
          first ? b_.CreateSelect(first, ConstantFP::get(f32_, c_.states[j].init->value), loaded)
                : loaded;
    }
    if (!out) return;  // (spikes not read)
    Value *prev_out = load(out, b_.CreateAdd(b_.CreateMul(tp, out_stride), n));
    env.vars["spiked"] = first ? b_.CreateSelect(first, zero(), prev_out) : prev_out;
  }

  /// Opens `for (i = begin; i != end; i += down ? -1 : 1)`; returns the index and exit block.
  std::pair<PHINode *, BasicBlock *> loop(Value *begin, Value *end, const char *name, bool down) {
    Function *f = b_.GetInsertBlock()->getParent();
    BasicBlock *pre = b_.GetInsertBlock();
    auto *header = BasicBlock::Create(m_.getContext(), std::string(name) + ".check", f);
    auto *body = BasicBlock::Create(m_.getContext(), std::string(name) + ".body", f);
    auto *exit = BasicBlock::Create(m_.getContext(), std::string(name) + ".done", f);
    b_.CreateBr(header);
    b_.SetInsertPoint(header);
    PHINode *i = b_.CreatePHI(i64_, 2, name);
    i->addIncoming(begin, pre);
    Value *more = down ? b_.CreateICmpSGT(i, end) : b_.CreateICmpSLT(i, end);
    b_.CreateCondBr(more, body, exit);
    b_.SetInsertPoint(body);
    i->setName(name);
    steps_[i] = down;
    headers_[i] = header;
    return {i, exit};
  }

  void close(PHINode *i, BasicBlock *exit) {
    Value *next = b_.CreateAdd(i, b_.getInt64(steps_[i] ? -1 : 1), "", !steps_[i], true);
    i->addIncoming(next, b_.GetInsertBlock());
    b_.CreateBr(headers_[i]);
    b_.SetInsertPoint(exit);
  }

  std::map<PHINode *, bool> steps_;
  std::map<PHINode *, BasicBlock *> headers_;
};

}  // namespace

bool backward_reads(const ir::Cell &c, const std::string &name) {
  for (const auto &st : c.backward)
    if (ir::free_vars(st.value).count(name)) return true;
  return false;
}

void generate_cell_kernels(const ir::Model &model, llvm::Module &module, bool segment_kernels) {
  for (const auto &c : model.cells) {
    CellCodeGen g(c, module);
    g.forward(false);
    g.backward(false);
    if (segment_kernels && !c.output) {
      g.forward(true);
      g.backward(true);
    }
  }
}

}  // namespace snnc::backends
