// CudaExpr.h — prints IR expressions as CUDA C++ (also valid host C++), in double precision
// (simulations, like the LLVM backend's simulation code) or in float (cells of trainable
// models, like the LLVM scan kernels). Shared by the CUDA printers.
#pragma once
#include <map>
#include <string>
#include <utility>

#include "IR.h"

namespace snnc::backends {

class CudaExprPrinter {
 public:
  explicit CudaExprPrinter(bool single_precision = false) : single_(single_precision) {}
  /// IR name -> C++ expression
  std::map<std::string, std::string> names;
  /// propagator name -> (offset into `derived`, columns)
  std::map<std::string, std::pair<int, int>> matrices;

  /// Throws std::logic_error on an unbound name, std::runtime_error on what the CUDA backend
  /// cannot compute on the device (random draws).
  std::string print(const ir::ExprPtr &e) const;
  /// A constant in this printer's precision that reads back exactly (`0.9f`, `25.0`).
  std::string literal(double v) const;
  /// "float" or "double".
  const char *type() const { return single_ ? "float" : "double"; }

 private:
  bool single_;
  std::string call(const ir::Expr &e) const;
  std::string boolean(const std::string &condition) const;
  std::string math(const std::string &name) const { return single_ ? name + "f" : name; }
};

/// The includes every generated CUDA file starts with (after its header comment): the
/// standard headers, `extra` (e.g. "#include \"snnc_rt.h\"\n"), and either the CUDA runtime
/// with SNNC_LAUNCH as a kernel launch, or, under SNNC_CUDA_SHIM, the host shim.
std::string cuda_prologue(const std::string &extra = "");

/// `s` with every character that cannot appear in a C identifier replaced by '_'.
std::string cuda_ident(const std::string &s);

}  // namespace snnc::backends
