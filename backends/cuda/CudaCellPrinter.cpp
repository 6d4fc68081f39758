// CudaCellPrinter.cpp — CUDA C++ text for the cells of a trainable model.
#include "CudaCellPrinter.h"

#include <fmt/format.h>

#include <map>
#include <stdexcept>

#include "CudaExpr.h"

namespace snnc::backends {
namespace {

constexpr int kThreads = 128;

class CellPrinter {
 public:
  CellPrinter(const ir::Cell &c, const std::string &prefix)
      : c_(c), id_(cuda_ident(prefix + c.name)), S_(c.states.size()) {}

  std::string forward() {
    std::string o = fmt::format(
        "// cell {} ({}): forward scan over T steps, one thread per element\n"
        "__global__ void cell_fwd_{}(const float *__restrict__ I, float *__restrict__ out,\n"
        "    float *__restrict__ post, int64_t T, int64_t N, int64_t ld, int64_t out_stride,\n"
        "    int64_t post_stride) {{\n",
        c_.name, c_.neuron, id_);
    o += prologue();
    CudaExprPrinter e = names();
    if (c_.output) {
      o += "  for (int64_t t = 0; t < T; ++t) {\n";
      o += "    const float in_I = I[t * ld + n];\n";
      o += fmt::format("    out[t * out_stride + n] = {};\n  }}\n}}\n\n", e.print(c_.output));
      return o;
    }
    for (const auto &s : c_.states)
      o += fmt::format("  float s_{} = {};  // state\n", cuda_ident(s.name),
                       e.literal(s.init->value));
    o += "  float spiked = 0.0f;  // the previous step's spike (the reset signal)\n";
    o += "  for (int64_t t = 0; t < T; ++t) {\n";
    o += "    [[maybe_unused]] const float in_I = I[t * ld + n];\n";
    for (size_t j = 0; j < S_; ++j)
      o += fmt::format("    const float next_{} = {};\n", cuda_ident(c_.states[j].name),
                       e.print(c_.next[j]));
    for (size_t j = 0; j < S_; ++j) {
      const std::string s = cuda_ident(c_.states[j].name);
      o += fmt::format("    s_{0} = next_{0};\n    post[t * post_stride + {1} * ld + n] = s_{0};\n",
                       s, j);
    }
    CudaExprPrinter after = e;  // the surrogate input reads the state after the step
    for (const auto &s : c_.states) after.names["_post_" + s.name] = "s_" + cuda_ident(s.name);
    o += fmt::format("    spiked = (float)({} > 0.0f);\n", after.print(c_.h));
    o += "    out[t * out_stride + n] = spiked;\n  }\n}\n\n";
    return o;
  }

  std::string backward() {
    std::string o = fmt::format(
        "// cell {}: backward scan in reverse time (BPTT); carry holds each state's adjoint\n"
        "__global__ void cell_bwd_{}(const float *__restrict__ I, const float *__restrict__ out,\n"
        "    const float *__restrict__ post, const float *__restrict__ g_out,\n"
        "    const float *__restrict__ g_post, float *__restrict__ g_I, float *__restrict__ "
        "carry,\n"
        "    int64_t T, int64_t N, int64_t ld) {{\n",
        c_.name, id_);
    o += prologue();
    CudaExprPrinter e = names();
    e.names["_g_spk"] = "g_spk";
    for (size_t j = 0; j < S_; ++j) {
      const std::string s = cuda_ident(c_.states[j].name);
      o += fmt::format("  float a_{} = carry[{} * ld + n];  // adjoint from later steps\n", s, j);
      e.names["_post_" + c_.states[j].name] = "post_" + s;
      e.names["_a_" + c_.states[j].name] = "adj_" + s;
    }
    o += "  for (int64_t t = T - 1; t >= 0; --t) {\n";
    o += "    [[maybe_unused]] const float in_I = I[t * ld + n];\n"
         "    [[maybe_unused]] const float g_spk = g_out[t * ld + n];\n";
    if (!c_.output) {
      o += "    [[maybe_unused]] const float spiked = t > 0 ? out[(t - 1) * ld + n] : 0.0f;\n";
      for (size_t j = 0; j < S_; ++j) {
        const std::string s = cuda_ident(c_.states[j].name);
        o += fmt::format(
            "    [[maybe_unused]] const float s_{0} = t > 0 ? post[((t - 1) * {1} + {2}) * ld + n] "
            ": {3};\n"
            "    [[maybe_unused]] const float post_{0} = post[(t * {1} + {2}) * ld + n];\n"
            "    [[maybe_unused]] const float adj_{0} = a_{0} + (g_post ? g_post[(t * {1} + {2}) * "
            "ld + n] : "
            "0.0f);\n",
            s, S_, j, e.literal(c_.states[j].init->value));
      }
    }
    std::map<std::string, std::string> sets;  // written after every statement has been read
    for (const auto &st : c_.backward) {
      const std::string v = e.print(st.value);
      const std::string local = "v" + std::to_string(locals_++) + "_" + cuda_ident(st.name);
      o += fmt::format("    const float {} = {};\n", local, v);
      if (st.kind == ir::Stmt::Let)
        e.names[st.name] = local;
      else
        sets[st.name] = local;
    }
    if (!sets.count("_g_I")) throw std::logic_error("cuda: cell '" + c_.name + "' sets no _g_I");
    o += fmt::format("    g_I[t * ld + n] = {};\n", sets.at("_g_I"));
    for (const auto &s : c_.states) {
      auto it = sets.find("_a_" + s.name);
      if (it == sets.end()) throw std::logic_error("cuda: no adjoint for state '" + s.name + "'");
      o += fmt::format("    a_{} = {};\n", cuda_ident(s.name), it->second);
    }
    o += "  }\n";
    for (size_t j = 0; j < S_; ++j)
      o += fmt::format("  carry[{} * ld + n] = a_{};\n", j, cuda_ident(c_.states[j].name));
    o += "}\n\n";
    return o;
  }

  std::string launchers() const {
    return fmt::format(
        "extern \"C\" int snnc_cuda_cell_fwd_{0}(const float *I, float *out, float *post, "
        "int64_t T,\n"
        "                                  int64_t N, int64_t ld, int64_t out_stride,\n"
        "                                  int64_t post_stride) {{\n"
        "  if (N <= 0) return 0;\n"
        "  SNNC_LAUNCH(cell_fwd_{0}, (N + {1} - 1) / {1}, {1}, I, out, post, T, N, ld, "
        "out_stride,\n"
        "              post_stride);\n"
        "  return (int)cudaGetLastError();\n}}\n\n"
        "extern \"C\" int snnc_cuda_cell_bwd_{0}(const float *I, const float *out, const float "
        "*post,\n"
        "    const float *g_out, const float *g_post, float *g_I, float *carry, int64_t T, "
        "int64_t N,\n"
        "    int64_t ld) {{\n"
        "  if (N <= 0) return 0;\n"
        "  SNNC_LAUNCH(cell_bwd_{0}, (N + {1} - 1) / {1}, {1}, I, out, post, g_out, g_post, g_I, "
        "carry,\n"
        "              T, N, ld);\n"
        "  return (int)cudaGetLastError();\n}}\n\n",
        id_, kThreads);
  }

 private:
  const ir::Cell &c_;
  std::string id_;
  size_t S_;
  int locals_ = 0;

  std::string prologue() const {
    std::string o =
        "  const int64_t n = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;\n"
        "  if (n >= N) return;\n";
    CudaExprPrinter e(true);
    for (const auto &p : c_.params)
      o += fmt::format("  [[maybe_unused]] const float p_{} = {};\n", cuda_ident(p.name),
                       e.literal(p.value->value));
    return o;
  }

  CudaExprPrinter names() const {
    CudaExprPrinter e(true);
    for (const auto &p : c_.params) e.names[p.name] = "p_" + cuda_ident(p.name);
    for (const auto &s : c_.states) e.names[s.name] = "s_" + cuda_ident(s.name);
    e.names["I"] = "in_I";
    e.names["spiked"] = "spiked";
    return e;
  }
};

}  // namespace

std::string print_cuda_cells(const std::vector<CudaCellModel> &models, const std::string &source) {
  std::string out = fmt::format(
      "// Generated by snnc from {}: CUDA source of the cells of its trainable models.\n"
      "// Each cell's recurrence over time is one kernel (one thread per element, the state in\n"
      "// registers), forward and backward (BPTT with the surrogate gradient), derived from the\n"
      "// same IR as the LLVM scan kernels; arrays are time-major [T][ld], states [T][S][ld].\n",
      source);
  out += cuda_prologue();
  for (const auto &[model, prefix] : models) {
    out += fmt::format("// ---- model {}{}: layers", model->name,
                       prefix.empty() ? "" : " (symbols prefixed " + prefix + ")");
    for (const auto &l : model->layers) out += " " + l.name;
    out += "\n\n";
    for (const auto &c : model->cells) {
      if (!c.differentiated)
        throw std::logic_error("cuda: cell '" + c.name + "' not differentiated");
      CellPrinter p(c, prefix);
      out += p.forward();
      out += p.backward();
      out += p.launchers();
    }
  }
  return out;
}

}  // namespace snnc::backends
