// CudaExpr.cpp — IR expressions as CUDA C++ text.
#include "CudaExpr.h"

#include <cctype>
#include <cmath>
#include <stdexcept>
#include <vector>

namespace snnc::backends {

std::string CudaExprPrinter::literal(double v) const {
  if (std::isinf(v)) return v > 0 ? "INFINITY" : "(-INFINITY)";
  std::string s = ir::format_number(v);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  if (single_) s += "f";
  return v < 0 ? "(" + s + ")" : s;
}

std::string CudaExprPrinter::boolean(const std::string &condition) const {
  return std::string("(") + type() + ")(" + condition + ")";
}

std::string CudaExprPrinter::print(const ir::ExprPtr &e) const {
  using ir::ExprKind;
  using ir::Op;
  const std::string zero = literal(0.0);
  switch (e->kind) {
    case ExprKind::Number:
      return literal(e->value);
    case ExprKind::Var: {
      auto it = names.find(e->name);
      if (it == names.end()) throw std::logic_error("cuda: unbound name '" + e->name + "'");
      return it->second;
    }
    case ExprKind::Index: {
      auto [offset, cols] = matrices.at(e->name);
      return "derived[" + std::to_string(offset + e->row * cols + e->col) + "]";
    }
    case ExprKind::Unary:
      return e->op == Op::Neg ? "(-" + print(e->args[0]) + ")"
                              : boolean(print(e->args[0]) + " == " + zero);
    case ExprKind::Select:
      return "(" + print(e->args[0]) + " != " + zero + " ? " + print(e->args[1]) + " : " +
             print(e->args[2]) + ")";
    case ExprKind::Call:
      return call(*e);
    case ExprKind::Binary:
      break;
  }
  std::string a = print(e->args[0]), b = print(e->args[1]);
  switch (e->op) {
    case Op::Add:
      return "(" + a + " + " + b + ")";
    case Op::Sub:
      return "(" + a + " - " + b + ")";
    case Op::Mul:
      return "(" + a + " * " + b + ")";
    case Op::Div:
      return "(" + a + " / " + b + ")";
    case Op::Pow:
      return math("pow") + "(" + a + ", " + b + ")";
    case Op::Lt:
      return boolean(a + " < " + b);
    case Op::Le:
      return boolean(a + " <= " + b);
    case Op::Gt:
      return boolean(a + " > " + b);
    case Op::Ge:
      return boolean(a + " >= " + b);
    case Op::Eq:
      return boolean(a + " == " + b);
    case Op::Ne:
      return boolean(a + " != " + b);
    case Op::And:
      return boolean(a + " != " + zero + " && " + b + " != " + zero);
    case Op::Or:
      return boolean(a + " != " + zero + " || " + b + " != " + zero);
    default:
      throw std::logic_error("cuda: bad operator");
  }
}

std::string CudaExprPrinter::call(const ir::Expr &e) const {
  std::vector<std::string> a;
  for (const auto &x : e.args) a.push_back(print(x));
  const std::string &f = e.name;
  if (f == "abs") return math("fabs") + "(" + a[0] + ")";
  if (f == "min") return math("fmin") + "(" + a[0] + ", " + a[1] + ")";
  if (f == "max") return math("fmax") + "(" + a[0] + ", " + a[1] + ")";
  if (f == "clip")
    return math("fmin") + "(" + math("fmax") + "(" + a[0] + ", " + a[1] + "), " + a[2] + ")";
  if (f == "heaviside") return boolean(a[0] + " > " + literal(0.0));
  if (f == "sigmoid")
    return "(" + literal(1.0) + " / (" + literal(1.0) + " + " + math("exp") + "(-" + a[0] + ")))";
  if (f == "uniform" || f == "normal")
    throw std::runtime_error("cuda: random values are drawn on the host");
  std::string s = math(f) + "(";
  for (size_t i = 0; i < a.size(); ++i) s += (i ? ", " : "") + a[i];
  return s + ")";
}

std::string cuda_prologue(const std::string &extra) {
  return "#include <cmath>\n#include <cstdint>\n" + extra +
         "#ifdef SNNC_CUDA_SHIM  // runs the kernels on the CPU, one thread after another "
         "(testing)\n"
         "#include \"snnc_cuda_shim.h\"\n"
         "#else\n#include <cuda_runtime.h>\n"
         "#define SNNC_LAUNCH(kernel, blocks, threads, ...) kernel<<<(blocks), "
         "(threads)>>>(__VA_ARGS__)\n"
         "#endif\n\n";
}

std::string cuda_ident(const std::string &s) {
  std::string out;
  for (char c : s) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '_') ? c : '_';
  return out;
}

}  // namespace snnc::backends
