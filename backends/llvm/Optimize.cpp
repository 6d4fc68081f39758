// Optimize.cpp — host target machine creation and the new-pass-manager O3 pipeline.
#include "Optimize.h"

#include <llvm/Analysis/CGSCCPassManager.h>
#include <llvm/Analysis/LoopAnalysisManager.h>
#include <llvm/Analysis/TargetLibraryInfo.h>
#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/PassManager.h>
#include <llvm/MC/MCSubtargetInfo.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>

#include <deque>
#include <stdexcept>

namespace snnc::backends {

static void initialise_llvm() {
  static bool done = [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    llvm::InitializeNativeTargetAsmParser();
    return true;
  }();
  (void)done;
}

std::unique_ptr<llvm::TargetMachine> host_target_machine() {
  initialise_llvm();
  auto jtmb = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!jtmb)
    throw std::runtime_error("cannot detect the host target: " + llvm::toString(jtmb.takeError()));
  jtmb->setCodeGenOptLevel(llvm::CodeGenOptLevel::Aggressive);
  auto tm = jtmb->createTargetMachine();
  if (!tm)
    throw std::runtime_error("cannot create the target machine: " + llvm::toString(tm.takeError()));
  return std::move(*tm);
}

namespace {

/// glibc's vector math (libmvec) for exp, expm1 and log of doubles, in the widths the host
/// runs: 2 lanes (SSE), 4 (AVX2), 8 (AVX-512). The vectorizer then keeps a neuron loop
/// that calls them vectorized instead of scalarizing it.
void add_vector_math(llvm::TargetLibraryInfoImpl &tlii, const llvm::TargetMachine &tm,
                     std::deque<std::string> &storage) {
  const llvm::MCSubtargetInfo *sti = tm.getMCSubtargetInfo();
  const bool avx2 = sti->checkFeatures("+avx2"), avx512 = sti->checkFeatures("+avx512f");
  static const char *const names[][2] = {{"llvm.exp.f64", "exp"},
                                         {"exp", "exp"},
                                         {"expm1", "expm1"},
                                         {"llvm.log.f64", "log"},
                                         {"log", "log"}};
  std::vector<llvm::VecDesc> descs;  // they refer to the names in `storage`
  auto add = [&](const char *scalar, const char *fn, char isa, unsigned lanes) {
    storage.push_back(std::string("_ZGV") + isa + "N" + std::to_string(lanes) + "v_" + fn);
    std::string vabi = "_ZGV_LLVM_N" + std::to_string(lanes) + "v";
    storage.push_back(vabi);
    descs.emplace_back(scalar, storage[storage.size() - 2], llvm::ElementCount::getFixed(lanes),
                       false, storage.back());
  };
  for (const auto &n : names) {
    add(n[0], n[1], 'b', 2);
    if (avx2) add(n[0], n[1], 'd', 4);
    if (avx512) add(n[0], n[1], 'e', 8);
  }
  tlii.addVectorizableFunctions(descs);
}

}  // namespace

void optimize_module(llvm::Module &module, llvm::TargetMachine &tm, bool vector_math) {
  module.setTargetTriple(tm.getTargetTriple().str());
  module.setDataLayout(tm.createDataLayout());
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::TargetLibraryInfoImpl tlii(llvm::Triple(module.getTargetTriple()));
  std::deque<std::string> names;
  if (vector_math) {
    add_vector_math(tlii, tm, names);
    fam.registerPass([&] { return llvm::TargetLibraryAnalysis(tlii); });
  }
  llvm::PipelineTuningOptions tuning;
  tuning.LoopVectorization = true;
  tuning.SLPVectorization = true;
  llvm::PassBuilder pb(&tm, tuning);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::ModulePassManager mpm = pb.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3);
  mpm.run(module, mam);
}

std::string to_text(const llvm::Module &module) {
  std::string s;
  llvm::raw_string_ostream os(s);
  module.print(os, nullptr);
  return s;
}

}  // namespace snnc::backends
