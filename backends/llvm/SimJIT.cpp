// SimJIT.cpp — LLJIT set-up, runtime symbol binding and entry-point lookup.
#include "SimJIT.h"

#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/ExecutionEngine/Orc/ThreadSafeModule.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/DynamicLibrary.h>

#include <stdexcept>

#include "Jit.h"
#include "Optimize.h"
#include "snnc_rt.h"

namespace snnc::backends {

namespace {
template <typename T>
T check(llvm::Expected<T> v, const char *what) {
  if (!v) throw std::runtime_error(std::string(what) + ": " + llvm::toString(v.takeError()));
  return std::move(*v);
}
void check(llvm::Error e, const char *what) {
  if (e) throw std::runtime_error(std::string(what) + ": " + llvm::toString(std::move(e)));
}
}  // namespace

Jit::Jit(std::unique_ptr<llvm::Module> module, std::unique_ptr<llvm::LLVMContext> context) {
  host_target_machine();  // initialises the native target
  auto jtmb = check(llvm::orc::JITTargetMachineBuilder::detectHost(), "detecting the host");
  jtmb.setCodeGenOptLevel(llvm::CodeGenOptLevel::Aggressive);
  jit_ = check(llvm::orc::LLJITBuilder().setJITTargetMachineBuilder(std::move(jtmb)).create(),
               "creating the JIT");
  auto &dylib = jit_->getMainJITDylib();
  // glibc's vector math, which loops vectorized over exp/expm1/log call (Optimize.h)
  std::string error;
  if (llvm::sys::DynamicLibrary::LoadLibraryPermanently("libmvec.so.1", &error))
    throw std::runtime_error("cannot load glibc's vector math library libmvec.so.1: " + error);
  dylib.addGenerator(check(llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
                               jit_->getDataLayout().getGlobalPrefix()),
                           "searching the process for libm"));
  llvm::orc::SymbolMap runtime;
  auto bind = [&](const char *name, auto *fn) {
    runtime[jit_->mangleAndIntern(name)] = llvm::orc::ExecutorSymbolDef(
        llvm::orc::ExecutorAddr::fromPtr(fn),
        llvm::JITSymbolFlags::Exported | llvm::JITSymbolFlags::Callable);
  };
  bind("snnc_rt_uniform", &snnc_rt_uniform);
  bind("snnc_rt_normal", &snnc_rt_normal);
  bind("snnc_rt_propagator", &snnc_rt_propagator);
  bind("snnc_rt_poisson", &snnc_rt_poisson);
  bind("snnc_rt_spikes", &snnc_rt_spikes);
  bind("snnc_rt_trace", &snnc_rt_trace);
  bind("snnc_rt_delay_push", &snnc_rt_delay_push);
  bind("snnc_rt_stimulus", &snnc_rt_stimulus);
  bind("snnc_rt_delay_take", &snnc_rt_delay_take);
  check(dylib.define(llvm::orc::absoluteSymbols(std::move(runtime))), "binding the runtime");
  check(jit_->addIRModule(llvm::orc::ThreadSafeModule(std::move(module), std::move(context))),
        "adding the module");
}

Jit::~Jit() = default;

void *Jit::lookup(const std::string &name) {
  return check(jit_->lookup(name), "compiling").toPtr<void *>();
}

SimJIT::SimJIT(std::unique_ptr<llvm::Module> module, std::unique_ptr<llvm::LLVMContext> context)
    : jit_(std::make_unique<Jit>(std::move(module), std::move(context))) {
  fns_.setup = reinterpret_cast<snnc_sim_setup_fn>(jit_->lookup("snnc_sim_setup"));
  fns_.init = reinterpret_cast<snnc_sim_init_fn>(jit_->lookup("snnc_sim_init"));
  fns_.run = reinterpret_cast<snnc_sim_run_fn>(jit_->lookup("snnc_sim_run"));
}

SimJIT::~SimJIT() = default;

}  // namespace snnc::backends
