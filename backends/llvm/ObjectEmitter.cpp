// ObjectEmitter.cpp — cell kernels + plan + weights into one relocatable object.
#include "ObjectEmitter.h"

#include <llvm/IR/Constants.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/MC/MCSubtargetInfo.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Support/FileSystem.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/Target/TargetOptions.h>
#include <llvm/TargetParser/Host.h>

#include <stdexcept>

#include "CellCodeGen.h"
#include "Optimize.h"

namespace snnc::backends {

namespace {

llvm::GlobalVariable *bytes_global(llvm::Module &m, const std::string &name,
                                   const std::string &bytes) {
  auto *init = llvm::ConstantDataArray::getString(m.getContext(), bytes, /*AddNull=*/true);
  auto *g = new llvm::GlobalVariable(m, init->getType(), true, llvm::GlobalValue::ExternalLinkage,
                                     init, name);
  g->setAlignment(llvm::Align(16));
  return g;
}

std::unique_ptr<llvm::TargetMachine> object_target_machine(const std::string &cpu_name) {
  host_target_machine();  // initialises the native target
  std::string triple = llvm::sys::getDefaultTargetTriple(), error;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target) throw std::runtime_error("no target for " + triple + ": " + error);
  std::string cpu = cpu_name == "native" ? llvm::sys::getHostCPUName().str() : cpu_name;
  if (cpu_name != "native") {  // LLVM aborts on some unknown names: check first
    std::unique_ptr<llvm::MCSubtargetInfo> sti(target->createMCSubtargetInfo(triple, "", ""));
    if (!sti || !sti->isCPUStringValid(cpu))
      throw std::runtime_error("unknown CPU '" + cpu + "' for " + triple +
                               " (use native, or an LLVM CPU name such as x86-64-v3, "
                               "skylake-avx512 or znver4)");
  }
  std::string features;
  if (cpu_name == "native")
    for (const auto &[feature, on] : llvm::sys::getHostCPUFeatures())
      features += (on ? "+" : "-") + feature.str() + ",";
  llvm::TargetOptions options;
  auto *tm = target->createTargetMachine(triple, cpu, features, options, llvm::Reloc::PIC_,
                                         std::nullopt, llvm::CodeGenOptLevel::Aggressive);
  if (!tm) throw std::runtime_error("cannot create a target machine for CPU '" + cpu + "'");
  return std::unique_ptr<llvm::TargetMachine>(tm);
}

}  // namespace

void emit_model_object(const ir::Model &model, const std::string &plan_json,
                       const std::string &weights, const std::string &path,
                       const std::string &cpu) {
  llvm::LLVMContext context;
  llvm::Module m("snnc.standalone." + model.name, context);
  generate_cell_kernels(model, m, /*segment_kernels=*/false);
  bytes_global(m, "snnc_model_plan", plan_json);
  bytes_global(m, "snnc_model_weights", weights);
  auto *i64 = llvm::Type::getInt64Ty(context);
  new llvm::GlobalVariable(m, i64, true, llvm::GlobalValue::ExternalLinkage,
                           llvm::ConstantInt::get(i64, weights.size()), "snnc_model_weights_size");
  // {name, forward, backward} per cell
  auto *ptr = llvm::PointerType::getUnqual(context);
  auto *entry = llvm::StructType::get(context, {ptr, ptr, ptr});
  std::vector<llvm::Constant *> cells;
  for (const auto &c : model.cells) {
    auto *name = bytes_global(m, "snnc_cell_name." + c.name, c.name);
    name->setLinkage(llvm::GlobalValue::PrivateLinkage);
    cells.push_back(llvm::ConstantStruct::get(
        entry, {name, m.getFunction("cell_fwd." + c.name), m.getFunction("cell_bwd." + c.name)}));
  }
  auto *table_type = llvm::ArrayType::get(entry, cells.size());
  new llvm::GlobalVariable(m, table_type, true, llvm::GlobalValue::ExternalLinkage,
                           llvm::ConstantArray::get(table_type, cells), "snnc_model_cells");
  new llvm::GlobalVariable(m, i64, true, llvm::GlobalValue::ExternalLinkage,
                           llvm::ConstantInt::get(i64, cells.size()), "snnc_model_cell_count");
  std::string err;
  llvm::raw_string_ostream os(err);
  if (llvm::verifyModule(m, &os)) throw std::logic_error("standalone module is invalid: " + err);

  auto tm = object_target_machine(cpu);
  optimize_module(m, *tm);
  std::error_code ec;
  llvm::raw_fd_ostream out(path, ec, llvm::sys::fs::OF_None);
  if (ec) throw std::runtime_error("cannot write '" + path + "': " + ec.message());
  llvm::legacy::PassManager pm;
  if (tm->addPassesToEmitFile(pm, out, nullptr, llvm::CodeGenFileType::ObjectFile))
    throw std::runtime_error("the target cannot emit object files");
  pm.run(m);
  out.flush();
}

}  // namespace snnc::backends
