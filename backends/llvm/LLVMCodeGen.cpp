// LLVMCodeGen.cpp — IRBuilder code for kernels, propagation and the step loop.
#include "LLVMCodeGen.h"

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Support/raw_ostream.h>

#include <cmath>
#include <set>
#include <stdexcept>

#include "ExprEmitter.h"
#include "ExprUtils.h"

namespace snnc::backends {
namespace {

using namespace llvm;

/// A literal +0 (what a propagator's zero entries are; the buffer is zeroed first).
bool is_positive_zero(const ir::ExprPtr &e) {
  return e->kind == ir::ExprKind::Number && e->unit.empty() && e->value == 0 &&
         !std::signbit(e->value);
}

/// A counted loop `for (i = begin; i < end; ++i)`; body is emitted between open/close.
struct Loop {
  BasicBlock *header, *body, *exit;
  PHINode *index;
};

class SimCodeGen {
 public:
  SimCodeGen(const ir::Module &m, const SimLayout &l, LLVMContext &ctx)
      : m_(m),
        l_(l),
        ctx_(ctx),
        mod_(std::make_unique<llvm::Module>("snnc." + m.name, ctx)),
        b_(ctx) {
    f64_ = b_.getDoubleTy();
    i64_ = b_.getInt64Ty();
    i32_ = b_.getInt32Ty();
    i8_ = b_.getInt8Ty();
    ptr_ = b_.getPtrTy();
  }

  std::unique_ptr<llvm::Module> run() {
    declare_runtime();
    for (const auto &p : m_.populations) kernels_[p.name] = kernel(p);
    for (const auto &c : m_.connections)
      propagators_[c.name] = c.synapse               ? plastic(c)
                             : c.per_synapse_delay() ? synapse_propagation(c)
                                                     : propagation(c);
    setup();
    init();
    step_loop();
    std::string err;
    raw_string_ostream os(err);
    if (verifyModule(*mod_, &os)) throw std::logic_error("generated LLVM IR is invalid: " + err);
    return std::move(mod_);
  }

 private:
  const ir::Module &m_;
  const SimLayout &l_;
  LLVMContext &ctx_;
  std::unique_ptr<llvm::Module> mod_;
  IRBuilder<> b_;
  Type *f64_, *i64_, *i32_, *i8_;
  PointerType *ptr_;
  RuntimeFns rt_;
  std::map<std::string, Function *> kernels_, propagators_;

  void declare_runtime() {
    auto fn = [&](const char *name, Type *ret, std::vector<Type *> args) {
      return mod_->getOrInsertFunction(name, FunctionType::get(ret, args, false));
    };
    rt_.uniform = fn("snnc_rt_uniform", f64_, {ptr_});
    rt_.normal = fn("snnc_rt_normal", f64_, {ptr_});
    rt_.propagator = fn("snnc_rt_propagator", b_.getVoidTy(), {i32_, ptr_, f64_, ptr_});
    rt_.poisson = fn("snnc_rt_poisson", i64_, {ptr_, i32_, f64_, ptr_});
    rt_.spikes = fn("snnc_rt_spikes", b_.getVoidTy(), {ptr_, i32_, i64_, ptr_, i64_});
    rt_.trace = fn("snnc_rt_trace", b_.getVoidTy(), {ptr_, i32_, i64_, ptr_});
    rt_.stimulus = fn("snnc_rt_stimulus", i64_, {ptr_, i32_, f64_, ptr_});
    rt_.delay_push = fn("snnc_rt_delay_push", b_.getVoidTy(), {ptr_, i32_, i64_, ptr_, i64_});
    rt_.delay_take = fn("snnc_rt_delay_take", i64_, {ptr_, i32_, i64_, ptr_});
  }

  Function *define(const std::string &name, Type *ret, std::vector<Type *> args, bool internal) {
    auto *f = Function::Create(FunctionType::get(ret, args, false),
                               internal ? Function::InternalLinkage : Function::ExternalLinkage,
                               name, mod_.get());
    f->addFnAttr(Attribute::NoUnwind);
    b_.SetInsertPoint(BasicBlock::Create(ctx_, "entry", f));
    return f;
  }

  Loop open_loop(Value *begin, Value *end, const char *name) {
    Function *f = b_.GetInsertBlock()->getParent();
    BasicBlock *pre = b_.GetInsertBlock();
    Loop loop;
    loop.header = BasicBlock::Create(ctx_, std::string(name) + ".check", f);
    loop.body = BasicBlock::Create(ctx_, std::string(name) + ".body", f);
    loop.exit = BasicBlock::Create(ctx_, std::string(name) + ".done", f);
    b_.CreateBr(loop.header);
    b_.SetInsertPoint(loop.header);
    loop.index = b_.CreatePHI(begin->getType(), 2, name);
    loop.index->addIncoming(begin, pre);
    b_.CreateCondBr(b_.CreateICmpSLT(loop.index, end), loop.body, loop.exit);
    b_.SetInsertPoint(loop.body);
    return loop;
  }

  void close_loop(Loop &loop) {
    Value *next =
        b_.CreateAdd(loop.index, ConstantInt::get(loop.index->getType(), 1), "", true, true);
    loop.index->addIncoming(next, b_.GetInsertBlock());
    b_.CreateBr(loop.header);
    b_.SetInsertPoint(loop.exit);
  }

  /// Closes a loop whose iterations touch disjoint memory (the synapses of one CSR row or
  /// of one neuron's incoming list: each synapse its own state, each postsynaptic neuron
  /// once): its loads and stores join one access group and the loop is marked parallel over
  /// it, so the vectorizer may use gathers and scatters.
  void close_parallel_loop(Loop &loop) {
    MDNode *group = MDNode::getDistinct(ctx_, {});
    for (BasicBlock *bb = loop.body;; bb = bb->getNextNode()) {
      for (Instruction &i : *bb)
        if (isa<LoadInst>(i) || isa<StoreInst>(i))
          i.setMetadata(LLVMContext::MD_access_group, group);
      if (bb == b_.GetInsertBlock() || !bb->getNextNode()) break;
    }
    Value *next =
        b_.CreateAdd(loop.index, ConstantInt::get(loop.index->getType(), 1), "", true, true);
    loop.index->addIncoming(next, b_.GetInsertBlock());
    BranchInst *latch = b_.CreateBr(loop.header);
    MDNode *parallel =
        MDNode::get(ctx_, {MDString::get(ctx_, "llvm.loop.parallel_accesses"), group});
    MDNode *id = MDNode::getDistinct(ctx_, {nullptr, parallel});
    id->replaceOperandWith(0, id);
    latch->setMetadata(LLVMContext::MD_loop, id);
    b_.SetInsertPoint(loop.exit);
  }

  Value *load_f64(Value *base, int64_t index, const Twine &name = "") {
    return b_.CreateLoad(f64_, b_.CreateConstInBoundsGEP1_64(f64_, base, index), name);
  }

  /// Loads every parameter of `owner` (and the simulation's dt) into `env`.
  void load_params(Value *params, const std::string &owner, ExprEnv &env) {
    for (size_t i = 0; i < l_.params.size(); ++i)
      if (l_.params[i].owner == owner)
        env.vars[l_.params[i].local] = load_f64(params, i, l_.params[i].local);
    env.vars["dt"] = load_f64(params, l_.dt_param, "dt");
    env.vars["learning"] = l_.learning_param >= 0 ? load_f64(params, l_.learning_param, "learning")
                                                  : ConstantFP::get(f64_, 1.0);
  }

  void bind_propagators(const ir::Population &p, Value *derived, ExprEnv &env) {
    for (const auto &pr : p.propagators)
      env.matrices[pr.name] = {derived, l_.populations.at(p.name).derived,
                               static_cast<int>(pr.vars.size() * 2)};
  }

  // ---- the fused neuron kernel of one population ----
  Function *kernel(const ir::Population &p) {
    // args: params, derived, one array per state/input, flags, spike index, t
    std::vector<std::string> arrays;
    for (const auto &s : p.states) arrays.push_back(s.name);
    for (const auto &in : p.inputs) arrays.push_back(in.name);
    std::vector<Type *> args = {ptr_, ptr_};
    for (size_t i = 0; i < arrays.size() + 2; ++i) args.push_back(ptr_);
    args.push_back(f64_);
    Function *f = define("kernel." + p.name, i64_, args, true);
    f->addFnAttr(Attribute::NoInline);
    for (unsigned i = 0; i < f->arg_size() - 1; ++i) f->addParamAttr(i, Attribute::NoAlias);
    Value *params = f->getArg(0), *derived = f->getArg(1);
    Value *flags = f->getArg(2 + arrays.size()), *spike_index = f->getArg(3 + arrays.size());
    Value *t = f->getArg(4 + arrays.size());

    ExprEnv base;
    load_params(params, p.name, base);
    base.vars["t"] = t;
    bind_propagators(p, derived, base);

    bool spikes = false;
    for (const auto &s : p.kernel) spikes |= s.kind == ir::Stmt::Spike;

    Loop loop = open_loop(b_.getInt64(0), b_.getInt64(p.size), "neuron");
    ExprEnv env = base;
    std::map<std::string, Value *> slot;
    for (size_t k = 0; k < arrays.size(); ++k) {
      slot[arrays[k]] = b_.CreateInBoundsGEP(f64_, f->getArg(2 + k), loop.index);
      env.vars[arrays[k]] = b_.CreateLoad(f64_, slot[arrays[k]], arrays[k]);
    }
    Value *flag_slot = b_.CreateInBoundsGEP(i8_, flags, loop.index);
    env.vars["spiked"] = b_.CreateUIToFP(b_.CreateLoad(i8_, flag_slot), f64_, "spiked");
    ExprEmitter emit(b_, rt_, nullptr);
    std::set<std::string> written;
    Value *fire = nullptr;
    for (const auto &s : p.kernel) {
      Value *v = emit.emit(s.value, env);
      if (s.kind == ir::Stmt::Spike) {
        fire = v;
      } else {
        env.vars[s.name] = v;
        if (s.kind == ir::Stmt::Set) written.insert(s.name);
      }
    }
    for (const auto &s : p.states)
      if (written.count(s.name)) b_.CreateStore(env.vars[s.name], slot[s.name]);
    for (const auto &in : p.inputs) b_.CreateStore(ConstantFP::get(f64_, 0.0), slot[in.name]);
    if (spikes)
      b_.CreateStore(b_.CreateZExt(b_.CreateFCmpUNE(fire, ConstantFP::get(f64_, 0.0)), i8_),
                     flag_slot);
    close_loop(loop);

    if (!spikes) {
      b_.CreateRet(b_.getInt64(0));
      return f;
    }
    // compaction: indices of this step's spikes, ascending
    Value *count = b_.CreateAlloca(i64_, nullptr, "count");
    b_.CreateStore(b_.getInt64(0), count);
    Loop scan = open_loop(b_.getInt64(0), b_.getInt64(p.size), "scan");
    Value *flag = b_.CreateLoad(i8_, b_.CreateInBoundsGEP(i8_, flags, scan.index));
    BasicBlock *hit = BasicBlock::Create(ctx_, "hit", f),
               *cont = BasicBlock::Create(ctx_, "next", f);
    b_.CreateCondBr(b_.CreateICmpNE(flag, b_.getInt8(0)), hit, cont);
    b_.SetInsertPoint(hit);
    Value *c = b_.CreateLoad(i64_, count);
    b_.CreateStore(b_.CreateTrunc(scan.index, i32_), b_.CreateInBoundsGEP(i32_, spike_index, c));
    b_.CreateStore(b_.CreateAdd(c, b_.getInt64(1)), count);
    b_.CreateBr(cont);
    b_.SetInsertPoint(cont);
    close_loop(scan);
    b_.CreateRet(b_.CreateLoad(i64_, count));
    return f;
  }

  // ---- CSR propagation of one connection ----
  Function *propagation(const ir::Connection &c) {
    // args: row_ptr, col, target, spike index, spike count, weight, weights (or null)
    Function *f = define("propagate." + c.name, b_.getVoidTy(),
                         {ptr_, ptr_, ptr_, ptr_, i64_, f64_, ptr_}, true);
    f->addFnAttr(Attribute::NoInline);
    for (unsigned i : {0u, 1u, 2u, 3u, 6u}) f->addParamAttr(i, Attribute::NoAlias);
    Value *row_ptr = f->getArg(0), *col = f->getArg(1), *target = f->getArg(2);
    Value *idx = f->getArg(3), *count = f->getArg(4), *w = f->getArg(5), *weights = f->getArg(6);
    bool per_synapse = l_.connections.at(c.name).weight >= 0;
    Loop spikes = open_loop(b_.getInt64(0), count, "spike");
    Value *pre = b_.CreateSExt(b_.CreateLoad(i32_, b_.CreateInBoundsGEP(i32_, idx, spikes.index)),
                               i64_, "pre");
    Value *begin = b_.CreateLoad(i64_, b_.CreateInBoundsGEP(i64_, row_ptr, pre), "row.begin");
    Value *end = b_.CreateLoad(
        i64_, b_.CreateInBoundsGEP(i64_, row_ptr, b_.CreateAdd(pre, b_.getInt64(1))), "row.end");
    Loop syn = open_loop(begin, end, "synapse");
    Value *post = b_.CreateSExt(b_.CreateLoad(i32_, b_.CreateInBoundsGEP(i32_, col, syn.index)),
                                i64_, "post");
    Value *weight =
        per_synapse ? b_.CreateLoad(f64_, b_.CreateInBoundsGEP(f64_, weights, syn.index)) : w;
    Value *slot = b_.CreateInBoundsGEP(f64_, target, post);
    b_.CreateStore(b_.CreateFAdd(b_.CreateLoad(f64_, slot), weight), slot);
    close_loop(syn);
    close_loop(spikes);
    b_.CreateRetVoid();
    return f;
  }

  Value *buffer(Value *buffers, int slot) {
    return b_.CreateLoad(ptr_, b_.CreateConstInBoundsGEP1_64(ptr_, buffers, slot),
                         l_.buffers.at(slot).name);
  }

  // ---- setup: propagators from parameters ----
  void setup() {
    define("snnc_sim_setup", b_.getVoidTy(), {ptr_, ptr_, ptr_}, false);
    Function *f = b_.GetInsertBlock()->getParent();
    Value *params = f->getArg(0), *derived = f->getArg(1);
    for (const auto &p : m_.populations) {
      if (p.propagators.empty()) continue;
      ExprEnv env;
      load_params(params, p.name, env);
      ExprEmitter emit(b_, rt_, nullptr);
      int offset = l_.populations.at(p.name).derived;
      for (const auto &pr : p.propagators) {
        int n = static_cast<int>(pr.vars.size());
        Value *a = b_.CreateAlloca(f64_, b_.getInt32(n * n), "A." + p.name);
        // zero first, then only the other entries: code linear in the nonzeros, not n^2
        b_.CreateMemSet(a, b_.getInt8(0), b_.getInt64(uint64_t(n) * n * 8), llvm::MaybeAlign(8));
        for (int i = 0; i < n; ++i)
          for (int j = 0; j < n; ++j)
            if (!is_positive_zero(pr.a[i][j]))
              b_.CreateStore(emit.emit(pr.a[i][j], env),
                             b_.CreateConstInBoundsGEP1_64(f64_, a, i * n + j));
        b_.CreateCall(rt_.propagator, {b_.getInt32(n), a, env.vars["dt"],
                                       b_.CreateConstInBoundsGEP1_64(f64_, derived, offset)});
        offset += 2 * n * n;
      }
    }
    b_.CreateRetVoid();
  }

  // ---- init: initial state, one variable at a time ----
  void init() {
    define("snnc_sim_init", b_.getVoidTy(), {ptr_, ptr_, ptr_, ptr_}, false);
    Function *f = b_.GetInsertBlock()->getParent();
    Value *params = f->getArg(0), *buffers = f->getArg(2), *rt = f->getArg(3);
    for (const auto &p : m_.populations) {
      ExprEnv env;
      load_params(params, p.name, env);
      ExprEmitter emit(b_, rt_, rt);
      for (const auto &s : p.states) {
        Value *array = buffer(buffers, l_.populations.at(p.name).vars.at(s.name));
        Loop loop = open_loop(b_.getInt64(0), b_.getInt64(p.size), "init");
        b_.CreateStore(emit.emit(s.init, env), b_.CreateInBoundsGEP(f64_, array, loop.index));
        close_loop(loop);
      }
    }
    for (const auto &c : m_.connections)
      if (c.synapse) init_synapses(c, params, buffers, rt);
    b_.CreateRetVoid();
  }

  /// Per-synapse state over the synapses the runtime built, then the traces.
  void init_synapses(const ir::Connection &c, Value *params, Value *buffers, Value *rt) {
    const ConnectionSlots &s = l_.connections.at(c.name);
    ExprEnv env;
    load_params(params, c.name, env);
    ExprEmitter emit(b_, rt_, rt);
    Value *row_ptr = buffer(buffers, s.row_ptr);
    Value *nnz = b_.CreateLoad(
        i64_, b_.CreateConstInBoundsGEP1_64(i64_, row_ptr, group_size(m_, c.pre)), "nnz");
    auto fill = [&](const ir::StateVar &v, int slot, Value *count) {
      Value *array = buffer(buffers, slot);
      Loop loop = open_loop(b_.getInt64(0), count, "init");
      b_.CreateStore(emit.emit(v.init, env), b_.CreateInBoundsGEP(f64_, array, loop.index));
      close_loop(loop);
    };
    for (const auto &v : c.synapse->states) fill(v, s.synapse_vars.at(v.name), nnz);
    for (const auto &v : c.synapse->pre_traces)
      fill(v, s.pre_traces.at(v.name),
           s.pre_traces_per_synapse ? nnz : b_.getInt64(group_size(m_, c.pre)));
    for (const auto &v : c.synapse->post_traces)
      fill(v, s.post_traces.at(v.name), b_.getInt64(group_size(m_, c.post)));
  }

  // ---- synapse models: on_pre over outgoing synapses, on_post over incoming ones ----

  /// The arrays and per-call values of one synapse model's event function.
  struct SynapseCtx {
    const ir::Connection *c = nullptr;
    const ir::SynapseModel *sm = nullptr;
    Value *step = nullptr;
    ExprEnv base;                                   ///< params, dt, t
    std::map<std::string, Value *> arrays;          ///< synapse state, traces, postsynaptic vars
    std::map<std::string, Value *> decay_per_step;  ///< trace -> rate * dt
    Value *pre_last = nullptr, *post_last = nullptr;
    std::set<std::string> post_vars;  ///< postsynaptic variables
    bool post_current = false;        ///< postsynaptic traces already decayed to this step
    bool pre_per_synapse = false;     ///< presynaptic traces indexed by synapse
  };

  /// A trace's value at this step: stored value decayed over the steps since its update.
  Value *trace_at(SynapseCtx &x, const std::string &name, Value *neuron) {
    Value *slot = b_.CreateInBoundsGEP(f64_, x.arrays.at(name), neuron);
    Value *v = b_.CreateLoad(f64_, slot, name);
    auto it = x.decay_per_step.find(name);
    if (it == x.decay_per_step.end()) return v;
    Value *last = x.sm->kind_of(name) == 'a' ? x.pre_last : x.post_last;
    Value *since =
        b_.CreateSub(x.step, b_.CreateLoad(i64_, b_.CreateInBoundsGEP(i64_, last, neuron)));
    Value *factor = b_.CreateCall(Intrinsic::getDeclaration(mod_.get(), Intrinsic::exp, {f64_}),
                                  {b_.CreateFMul(it->second, b_.CreateSIToFP(since, f64_))});
    return b_.CreateFMul(v, factor, name + ".now");
  }

  /// Runs a block's trace statements (kind `side`) once for `neuron`: returns the value
  /// each statement leaves, and stores the final values with the step of the update.
  std::vector<Value *> trace_prologue(SynapseCtx &x, const std::vector<ir::Stmt> &block, char side,
                                      Value *neuron, ExprEnv &env) {
    const auto &traces = side == 'a' ? x.sm->pre_traces : x.sm->post_traces;
    for (const auto &t : traces) env.vars[t.name] = trace_at(x, t.name, neuron);
    std::vector<Value *> after(block.size(), nullptr);
    ExprEmitter emit(b_, rt_, nullptr);
    ExprEnv pro = env;
    bool set = false;
    for (size_t k = 0; k < block.size(); ++k)
      if (x.sm->kind_of(block[k].name) == side) {
        after[k] = pro.vars[block[k].name] = emit.emit(block[k].value, pro);
        set = true;
      }
    if (!set) return after;
    for (const auto &t : traces)
      b_.CreateStore(pro.vars[t.name], b_.CreateInBoundsGEP(f64_, x.arrays.at(t.name), neuron));
    if (Value *last = side == 'a' ? x.pre_last : x.post_last)
      b_.CreateStore(x.step, b_.CreateInBoundsGEP(i64_, last, neuron));
    return after;
  }

  /// One synapse's share of a block: synapse state at `syn`, the other side's traces at
  /// `other` (decayed), postsynaptic variables at `post`.
  void synapse_body(SynapseCtx &x, const std::vector<ir::Stmt> &block,
                    const std::vector<Value *> &after, ExprEnv env, Value *syn, Value *post,
                    Value *other, char other_side) {
    std::set<std::string> reads;
    for (const auto &st : block)
      for (const auto &v : ir::free_vars(st.value)) reads.insert(v);
    for (const auto &st : block) reads.insert(st.name);
    std::map<std::string, Value *> slot;
    for (const auto &v : reads) {
      char k = x.sm->kind_of(v);
      if (k == 's') {
        slot[v] = b_.CreateInBoundsGEP(f64_, x.arrays.at(v), syn);
        env.vars[v] = b_.CreateLoad(f64_, slot[v], v);
      } else if (k == other_side && other) {
        env.vars[v] =
            k == 'b' && x.post_current
                ? b_.CreateLoad(f64_, b_.CreateInBoundsGEP(f64_, x.arrays.at(v), other), v)
                : trace_at(x, v, other);
      } else if (!k && x.post_vars.count(v)) {
        slot[v] = b_.CreateInBoundsGEP(f64_, x.arrays.at(v), post);
        env.vars[v] = b_.CreateLoad(f64_, slot[v], v);
      }
    }
    ExprEmitter emit(b_, rt_, nullptr);
    std::set<std::string> written;
    for (size_t k = 0; k < block.size(); ++k) {
      const ir::Stmt &st = block[k];
      if (after[k]) {
        env.vars[st.name] = after[k];
        continue;
      }
      env.vars[st.name] = emit.emit(st.value, env);
      written.insert(st.name);
    }
    for (const auto &v : written) b_.CreateStore(env.vars[v], slot.at(v));
  }

  /// [ptr[i], ptr[i + 1]): a CSR row (or an incoming list) of neuron i.
  std::pair<Value *, Value *> range_of(Value *ptr, Value *i) {
    return {b_.CreateLoad(i64_, b_.CreateInBoundsGEP(i64_, ptr, i), "begin"),
            b_.CreateLoad(i64_, b_.CreateInBoundsGEP(i64_, ptr, b_.CreateAdd(i, b_.getInt64(1))),
                          "end")};
  }

  Value *load_index(Value *array, Value *at, const Twine &name) {
    return b_.CreateSExt(b_.CreateLoad(i32_, b_.CreateInBoundsGEP(i32_, array, at)), i64_, name);
  }

  /// on_pre over the synapses of each arrival, then on_post over the incoming synapses of
  /// each postsynaptic spike.
  void emit_events(SynapseCtx &x, const ir::Connection &c, const std::vector<ir::Stmt> &on_pre,
                   const std::vector<ir::Stmt> &on_post, Value *arrivals, Value *arrival_count,
                   Value *post_spikes, Value *post_count, Value *row_ptr, Value *col,
                   Value *col_ptr, Value *in_syn, Value *pre_of) {
    emit_on_pre(x, c, on_pre, arrivals, arrival_count, row_ptr, col);
    emit_on_post(x, on_post, post_spikes, post_count, col_ptr, in_syn, pre_of);
  }

  /// on_pre over the synapses of each arrival.
  void emit_arrivals(SynapseCtx &x, const ir::Connection &c, const std::vector<ir::Stmt> &on_pre,
                     Value *arrivals, Value *arrival_count, Value *row_ptr, Value *col) {
    Loop arrival = open_loop(b_.getInt64(0), arrival_count, "arrival");
    Value *id = load_index(arrivals, arrival.index, "id");
    if (c.per_synapse_delay()) {
      // one synapse per arrival, its presynaptic traces its own
      ExprEnv env = x.base;
      std::vector<Value *> after = trace_prologue(x, on_pre, 'a', id, env);
      Value *post = load_index(col, id, "post");
      synapse_body(x, on_pre, after, env, id, post, post, 'b');
    } else {
      ExprEnv env = x.base;
      std::vector<Value *> after = trace_prologue(x, on_pre, 'a', id, env);
      auto [begin, end] = range_of(row_ptr, id);
      Loop syn = open_loop(begin, end, "synapse");
      Value *post = load_index(col, syn.index, "post");
      synapse_body(x, on_pre, after, env, syn.index, post, post, 'b');
      close_parallel_loop(syn);
    }
    close_loop(arrival);
  }

  /// Whether `on_pre` reads a decaying postsynaptic trace.
  bool reads_decaying_post_trace(const SynapseCtx &x, const std::vector<ir::Stmt> &on_pre) {
    for (const auto &st : on_pre)
      for (const auto &v : ir::free_vars(st.value))
        if (x.sm->kind_of(v) == 'b' && x.decay_per_step.count(v)) return true;
    return false;
  }

  /// on_pre, reading decaying postsynaptic traces either decayed one read at a time, or,
  /// where this step's arrivals read more of them than there are postsynaptic neurons,
  /// after decaying every postsynaptic neuron's traces to this step once (one exp per
  /// neuron instead of one per synapse; the same values).
  void emit_on_pre(SynapseCtx &x, const ir::Connection &c, const std::vector<ir::Stmt> &on_pre,
                   Value *arrivals, Value *arrival_count, Value *row_ptr, Value *col) {
    if (!reads_decaying_post_trace(x, on_pre) || c.per_synapse_delay()) {
      emit_arrivals(x, c, on_pre, arrivals, arrival_count, row_ptr, col);
      return;
    }
    Function *f = b_.GetInsertBlock()->getParent();
    IRBuilder<> entry(&f->getEntryBlock(), f->getEntryBlock().begin());
    Value *reads = entry.CreateAlloca(i64_, nullptr, "reads");
    b_.CreateStore(b_.getInt64(0), reads);
    Loop count = open_loop(b_.getInt64(0), arrival_count, "count");
    Value *id = load_index(arrivals, count.index, "id");
    auto [begin, end] = range_of(row_ptr, id);
    b_.CreateStore(b_.CreateAdd(b_.CreateLoad(i64_, reads), b_.CreateSub(end, begin)), reads);
    close_loop(count);
    const int64_t n_post = group_size(m_, c.post);
    BasicBlock *bulk = BasicBlock::Create(ctx_, "decay.all", f);
    BasicBlock *lazy = BasicBlock::Create(ctx_, "decay.each", f);
    BasicBlock *done = BasicBlock::Create(ctx_, "on_pre.done", f);
    b_.CreateCondBr(b_.CreateICmpSGT(b_.CreateLoad(i64_, reads), b_.getInt64(n_post)), bulk, lazy);
    b_.SetInsertPoint(bulk);
    Loop j = open_loop(b_.getInt64(0), b_.getInt64(n_post), "decay");
    for (const auto &t : x.sm->post_traces) {
      if (!x.decay_per_step.count(t.name)) continue;
      Value *now = trace_at(x, t.name, j.index);
      b_.CreateStore(now, b_.CreateInBoundsGEP(f64_, x.arrays.at(t.name), j.index));
    }
    b_.CreateStore(x.step, b_.CreateInBoundsGEP(i64_, x.post_last, j.index));
    close_loop(j);
    x.post_current = true;
    emit_arrivals(x, c, on_pre, arrivals, arrival_count, row_ptr, col);
    x.post_current = false;
    b_.CreateBr(done);
    b_.SetInsertPoint(lazy);
    emit_arrivals(x, c, on_pre, arrivals, arrival_count, row_ptr, col);
    b_.CreateBr(done);
    b_.SetInsertPoint(done);
  }

  /// on_post over the incoming synapses of each postsynaptic spike.
  void emit_on_post(SynapseCtx &x, const std::vector<ir::Stmt> &on_post, Value *post_spikes,
                    Value *post_count, Value *col_ptr, Value *in_syn, Value *pre_of) {
    if (on_post.empty()) return;
    Loop spike = open_loop(b_.getInt64(0), post_count, "post.spike");
    Value *j = load_index(post_spikes, spike.index, "post");
    ExprEnv env = x.base;
    std::vector<Value *> after = trace_prologue(x, on_post, 'b', j, env);
    auto [begin, end] = range_of(col_ptr, j);
    Loop in = open_loop(begin, end, "incoming");
    Value *syn = load_index(in_syn, in.index, "synapse");
    synapse_body(x, on_post, after, env, syn, j,
                 x.pre_per_synapse ? syn : load_index(pre_of, syn, "pre"), 'a');
    close_parallel_loop(in);
    close_loop(spike);
  }

  Function *plastic(const ir::Connection &c) {
    // args: params, buffers, step, arrivals (presynaptic neurons, or synapses for delays
    // drawn per synapse), their count, postsynaptic spikes, their count
    Function *f = define("plastic." + c.name, b_.getVoidTy(),
                         {ptr_, ptr_, i64_, ptr_, i64_, ptr_, i64_}, true);
    f->addFnAttr(Attribute::NoInline);
    Value *params = f->getArg(0), *buffers = f->getArg(1);
    Value *arrivals = f->getArg(3), *arrival_count = f->getArg(4);
    Value *post_spikes = f->getArg(5), *post_count = f->getArg(6);
    const ConnectionSlots &s = l_.connections.at(c.name);
    const ir::SynapseModel &sm = *c.synapse;
    SynapseCtx x;
    x.c = &c;
    x.sm = &sm;
    x.step = f->getArg(2);
    load_params(params, c.name, x.base);
    Value *dt = x.base.vars["dt"];
    x.base.vars["t"] = b_.CreateFMul(b_.CreateSIToFP(x.step, f64_), dt, "t");
    {
      ExprEmitter emit(b_, rt_, nullptr);
      for (const auto &d : sm.decays)
        x.decay_per_step[d.var] = b_.CreateFMul(emit.emit(d.rate, x.base), dt);
    }
    for (const auto &[n, slot] : s.synapse_vars) x.arrays[n] = buffer(buffers, slot);
    for (const auto &[n, slot] : s.pre_traces) x.arrays[n] = buffer(buffers, slot);
    for (const auto &[n, slot] : s.post_traces) x.arrays[n] = buffer(buffers, slot);
    for (const auto &[n, slot] : l_.populations.at(c.post).vars) {
      x.arrays[n] = buffer(buffers, slot);
      x.post_vars.insert(n);
    }
    if (s.pre_last >= 0) x.pre_last = buffer(buffers, s.pre_last);
    x.pre_per_synapse = s.pre_traces_per_synapse;
    if (s.post_last >= 0) x.post_last = buffer(buffers, s.post_last);
    Value *row_ptr = buffer(buffers, s.row_ptr), *col = buffer(buffers, s.col);
    Value *col_ptr = buffer(buffers, s.col_ptr), *in_syn = buffer(buffers, s.in_synapse);
    Value *pre_of = buffer(buffers, s.pre_of);

    auto events = [&](const std::vector<ir::Stmt> &on_pre, const std::vector<ir::Stmt> &on_post) {
      emit_events(x, c, on_pre, on_post, arrivals, arrival_count, post_spikes, post_count, row_ptr,
                  col, col_ptr, in_syn, pre_of);
    };
    if (l_.learning_param < 0) {
      events(sm.on_pre, sm.on_post);
    } else {
      // with `learning` = 0 plasticity stops: only the deliveries to the neuron run
      std::vector<ir::Stmt> deliveries;
      for (const auto &st : sm.on_pre)
        if (!sm.kind_of(st.name)) deliveries.push_back(st);
      BasicBlock *learn = BasicBlock::Create(ctx_, "learn", f);
      BasicBlock *fixed = BasicBlock::Create(ctx_, "fixed", f);
      BasicBlock *done = BasicBlock::Create(ctx_, "done", f);
      b_.CreateCondBr(b_.CreateFCmpUNE(x.base.vars["learning"], ConstantFP::get(f64_, 0.0)), learn,
                      fixed);
      b_.SetInsertPoint(learn);
      events(sm.on_pre, sm.on_post);
      b_.CreateBr(done);
      b_.SetInsertPoint(fixed);
      events(deliveries, {});
      b_.CreateBr(done);
      b_.SetInsertPoint(done);
    }
    b_.CreateRetVoid();
    return f;
  }

  /// Delays drawn per synapse: the arrivals are synapses, each adding its weight.
  Function *synapse_propagation(const ir::Connection &c) {
    // args: col, target, arrivals (synapse ids), count, weight, weights (or null)
    Function *f =
        define("propagate." + c.name, b_.getVoidTy(), {ptr_, ptr_, ptr_, i64_, f64_, ptr_}, true);
    f->addFnAttr(Attribute::NoInline);
    Value *col = f->getArg(0), *target = f->getArg(1), *ids = f->getArg(2);
    Value *count = f->getArg(3), *w = f->getArg(4), *weights = f->getArg(5);
    bool per_synapse = l_.connections.at(c.name).weight >= 0;
    Loop loop = open_loop(b_.getInt64(0), count, "arrival");
    Value *syn = load_index(ids, loop.index, "synapse");
    Value *post = load_index(col, syn, "post");
    Value *weight = per_synapse ? b_.CreateLoad(f64_, b_.CreateInBoundsGEP(f64_, weights, syn)) : w;
    Value *slot = b_.CreateInBoundsGEP(f64_, target, post);
    b_.CreateStore(b_.CreateFAdd(b_.CreateLoad(f64_, slot), weight), slot);
    close_loop(loop);
    b_.CreateRetVoid();
    return f;
  }

  // ---- run: the time loop ----
  void step_loop() {
    define("snnc_sim_run", b_.getVoidTy(), {ptr_, ptr_, ptr_, ptr_, i64_, i64_}, false);
    Function *f = b_.GetInsertBlock()->getParent();
    Value *params = f->getArg(0), *derived = f->getArg(1), *buffers = f->getArg(2),
          *rt = f->getArg(3);
    Value *first = f->getArg(4), *count = f->getArg(5);
    Value *dt = load_f64(params, l_.dt_param, "dt");
    Value *arrivals_out = b_.CreateAlloca(ptr_, nullptr, "arrivals");
    std::map<int, Value *> buf;
    for (size_t k = 0; k < l_.buffers.size(); ++k) buf[k] = buffer(buffers, static_cast<int>(k));

    Loop step = open_loop(first, b_.CreateAdd(first, count), "step");
    Value *t = b_.CreateFMul(b_.CreateSIToFP(step.index, f64_), dt, "t");
    current_sources(params, t, buf);
    std::map<std::string, Value *> spike_count, spike_index;
    for (const auto &p : m_.populations) {
      const PopulationSlots &s = l_.populations.at(p.name);
      std::vector<Value *> args = {params, derived};
      for (const auto &st : p.states) args.push_back(buf[s.vars.at(st.name)]);
      for (const auto &in : p.inputs) args.push_back(buf[s.vars.at(in.name)]);
      args.push_back(buf[s.flags]);
      args.push_back(buf[s.spikes]);
      args.push_back(t);
      spike_count[p.name] = b_.CreateCall(kernels_[p.name], args, "spikes." + p.name);
      spike_index[p.name] = buf[s.spikes];
      b_.CreateCall(rt_.spikes,
                    {rt, b_.getInt32(s.group), step.index, buf[s.spikes], spike_count[p.name]});
    }
    for (const auto &src : m_.sources) {
      if (src.kind == ir::Source::Current) continue;
      Value *idx = buf[l_.poisson_spikes.at(src.name)];
      const int group = std::max(0, l_.group_of(src.name));
      Value *n;
      if (src.kind == ir::Source::Stimulus) {
        n = b_.CreateCall(rt_.stimulus, {rt, b_.getInt32(l_.stimulus_id.at(src.name)), dt, idx},
                          "spikes." + src.name);
      } else {
        Value *rate = load_f64(params, l_.param(src.name, "rate"), "rate");
        n = b_.CreateCall(
            rt_.poisson,
            {rt, b_.getInt32(l_.poisson_id.at(src.name)), b_.CreateFMul(rate, dt), idx},
            "spikes." + src.name);
      }
      b_.CreateCall(rt_.spikes, {rt, b_.getInt32(group), step.index, idx, n});
      spike_count[src.name] = n;
      spike_index[src.name] = idx;
    }
    int trace = 0;
    for (const auto &r : m_.records) {
      if (r.kind != ir::Record::Trace) continue;
      Value *array = buf[l_.populations.at(r.group).vars.at(r.var)];
      b_.CreateCall(rt_.trace, {rt, b_.getInt32(trace++), step.index, array});
    }
    for (const auto &c : m_.connections) {
      const ConnectionSlots &s = l_.connections.at(c.name);
      Value *list = spike_index[c.pre], *count = spike_count[c.pre];
      if (c.delay) {
        Value *conn = b_.getInt32(s.index);
        b_.CreateCall(rt_.delay_push, {rt, conn, step.index, list, count});
        count = b_.CreateCall(rt_.delay_take, {rt, conn, step.index, arrivals_out}, "arrived");
        list = b_.CreateLoad(ptr_, arrivals_out, "arrivals");
      }
      if (c.synapse) {
        b_.CreateCall(propagators_[c.name], {params, buffers, step.index, list, count,
                                             spike_index[c.post], spike_count[c.post]});
        continue;
      }
      Value *target = buf[l_.populations.at(c.post).vars.at(c.target)];
      Value *w =
          s.weight_param >= 0 ? load_f64(params, s.weight_param, "w") : ConstantFP::get(f64_, 0.0);
      Value *weights = s.weight >= 0 ? buf[s.weight] : ConstantPointerNull::get(ptr_);
      if (c.per_synapse_delay())
        b_.CreateCall(propagators_[c.name], {buf[s.col], target, list, count, w, weights});
      else
        b_.CreateCall(propagators_[c.name],
                      {buf[s.row_ptr], buf[s.col], target, list, count, w, weights});
    }
    close_loop(step);
    b_.CreateRetVoid();
  }

  void current_sources(Value *params, Value *t, std::map<int, Value *> &buf) {
    for (const auto &src : m_.sources) {
      if (src.kind != ir::Source::Current || src.targets.empty()) continue;
      Value *amp = load_f64(params, l_.param(src.name, "amplitude"), "amplitude");
      Value *start = load_f64(params, l_.param(src.name, "start"), "start");
      Value *stop = load_f64(params, l_.param(src.name, "stop"), "stop");
      Value *on = b_.CreateAnd(b_.CreateFCmpOGE(t, start), b_.CreateFCmpOLT(t, stop), "on");
      Function *f = b_.GetInsertBlock()->getParent();
      BasicBlock *add = BasicBlock::Create(ctx_, "drive." + src.name, f);
      BasicBlock *done = BasicBlock::Create(ctx_, "drive.done", f);
      b_.CreateCondBr(on, add, done);
      b_.SetInsertPoint(add);
      for (const auto &target : src.targets) {
        auto dot = target.find('.');
        const std::string pop = target.substr(0, dot), var = target.substr(dot + 1);
        Value *array = buf[l_.populations.at(pop).vars.at(var)];
        Loop loop = open_loop(b_.getInt64(0), b_.getInt64(m_.find_population(pop)->size), "drive");
        Value *slot = b_.CreateInBoundsGEP(f64_, array, loop.index);
        b_.CreateStore(b_.CreateFAdd(b_.CreateLoad(f64_, slot), amp), slot);
        close_loop(loop);
      }
      b_.CreateBr(done);
      b_.SetInsertPoint(done);
    }
  }
};

}  // namespace

std::unique_ptr<llvm::Module> generate_llvm(const ir::Module &module, const SimLayout &layout,
                                            llvm::LLVMContext &context) {
  return SimCodeGen(module, layout, context).run();
}

}  // namespace snnc::backends
