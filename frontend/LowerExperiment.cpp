// LowerExperiment.cpp — experiment settings to ExperimentSpec.
#include "LowerExperiment.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "DimensionChecker.h"
#include "LowerModel.h"
#include "ModelPass.h"

namespace snnc::ast {

/// Experiments through the model pipeline, with the diagnostics their lowering reported
/// (warnings), by index into File::experiments.
struct LoweredExperiments {
  struct Entry {
    ir::ExperimentSpec spec;
    std::vector<Diagnostic> diagnostics;
  };
  std::map<size_t, Entry> entries;
};

}  // namespace snnc::ast

namespace snnc::frontend {
namespace {

using namespace ast;

class ExperimentLowering {
 public:
  ExperimentLowering(const File &f, DiagnosticEngine &d, bool run_model_passes)
      : file_(f), diags_(d), dc_(d), run_model_passes_(run_model_passes) {}

  std::optional<ir::ExperimentSpec> run(const ExperimentDef &e) {
    ir::ExperimentSpec spec;
    spec.name = e.name;
    const Value *model = nullptr, *compare = nullptr;
    bool compare_loss = false, compare_optim = false, compare_encode = false;
    std::set<std::string> seen;
    for (const auto &s : e.settings) {
      if (!seen.insert(s.name).second) diags_.error(s.loc, "setting '" + s.name + "' given twice");
      const Value &v = s.value;
      if (s.name == "data")
        data(v, spec);
      else if (s.name == "encode")
        encode(v, spec.model_train);
      else if (s.name == "compare_encode")
        encode(v, spec.compare_train), compare_encode = true;
      else if (s.name == "model")
        model = &v;
      else if (s.name == "compare")
        compare = &v;
      else if (s.name == "loss")
        loss(v, spec.model_train);
      else if (s.name == "compare_loss")
        loss(v, spec.compare_train), compare_loss = true;
      else if (s.name == "optim")
        optim(v, spec.model_train);
      else if (s.name == "compare_optim")
        optim(v, spec.compare_train), compare_optim = true;
      else if (s.name == "train")
        train(v, spec);
      else if (s.name == "seed")
        spec.seed = static_cast<uint64_t>(integer(v, "seed", 0));
      else if (s.name == "replicates")
        spec.replicates = integer(v, "replicates", 1);
      else
        diags_.error(
            s.loc, "unknown experiment setting '" + s.name + "'" +
                       did_you_mean(s.name, {"data", "encode", "model", "compare", "loss", "optim",
                                             "train", "seed", "replicates", "compare_loss",
                                             "compare_optim", "compare_encode"}));
    }
    if (!model) {
      diags_.error(e.loc, "experiment '" + e.name + "' needs `model = NETWORK(...)`");
      return std::nullopt;
    }
    auto m = network(*model);
    if (!m) return std::nullopt;
    spec.model = std::move(*m);
    if (compare) {
      auto c = network(*compare);
      if (!c) return std::nullopt;
      spec.compare = std::move(*c);
      bool stateless = true;
      for (const auto &cell : spec.compare->cells) stateless &= cell.output != nullptr;
      // an ANN twin by default: one pass over the image, cross-entropy, SGD
      if (stateless) {
        if (!compare_encode) spec.compare_train.encoder = "direct", spec.compare_train.steps = 1;
        if (!compare_loss) spec.compare_train.loss = "cross_entropy";
        if (!compare_optim) spec.compare_train.optim = "sgd", spec.compare_train.lr = 0.01;
      } else {
        if (!compare_encode)
          spec.compare_train.encoder = spec.model_train.encoder,
          spec.compare_train.steps = spec.model_train.steps;
        if (!compare_loss) spec.compare_train.loss = spec.model_train.loss;
        if (!compare_optim)
          spec.compare_train.optim = spec.model_train.optim,
          spec.compare_train.lr = spec.model_train.lr;
      }
    }
    if (diags_.has_errors()) return std::nullopt;
    return spec;
  }

 private:
  const File &file_;
  DiagnosticEngine &diags_;
  DimensionChecker dc_;
  bool run_model_passes_;

  std::optional<double> number(const Value &v, const std::string &what) {
    if (v.kind == Value::Expr)
      if (auto c = dc_.constant_value(v.expr)) return c;
    if (v.kind == Value::Call) {  // `lr = exp(-3)`: a math function with positional arguments
      std::vector<ir::ExprPtr> args;
      for (const auto &a : v.args)
        if (a.name.empty() && a.value.kind == Value::Expr) args.push_back(a.value.expr);
      if (args.size() == v.args.size())
        if (auto c = dc_.constant_value(ir::call(v.text, args, v.loc))) return c;
    }
    diags_.error(v.loc, what + " must be a constant number");
    return std::nullopt;
  }

  int64_t integer(const Value &v, const std::string &what, int64_t min) {
    auto c = number(v, what);
    if (!c) return min;
    if (*c < min || *c != std::floor(*c) || *c > 9e15) {
      diags_.error(v.loc, what + " must be an integer >= " + std::to_string(min));
      return min;
    }
    return static_cast<int64_t>(*c);
  }

  /// Iterates the arguments of a call value, checking names against `allowed`
  /// (positional arguments take the names in order).
  template <typename Fn>
  void args(const Value &v, const std::vector<std::string> &allowed, Fn fn) {
    size_t position = 0;
    for (const auto &a : v.args) {
      std::string name = a.name;
      if (name.empty()) {
        if (position >= allowed.size()) {
          diags_.error(a.loc, "too many arguments for '" + v.text + "'");
          continue;
        }
        name = allowed[position++];
      }
      if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
        diags_.error(
            a.loc, "'" + v.text + "' has no argument '" + name + "'" + did_you_mean(name, allowed));
        continue;
      }
      fn(name, a.value);
    }
  }

  std::string callee(const Value &v) {
    if (v.kind == Value::Call) return v.text;
    if (v.kind == Value::Expr && v.expr->kind == ir::ExprKind::Var) return v.expr->name;
    return "";
  }

  void data(const Value &v, ir::ExperimentSpec &spec) {
    std::string kind = callee(v);
    if (kind != "mnist" && kind != "fashion_mnist") {
      diags_.error(v.loc, "unknown data set '" + kind + "'" +
                              did_you_mean(kind, {"mnist", "fashion_mnist"}) +
                              " (expected mnist(\"DIR\") or fashion_mnist(\"DIR\"))");
      return;
    }
    spec.dataset = kind;
    args(v, {"dir"}, [&](const std::string &, const Value &a) {
      if (a.kind != Value::String)
        diags_.error(a.loc, "the data directory must be a string, e.g. \"data/mnist\"");
      else
        spec.data_dir = a.text;
    });
  }

  void encode(const Value &v, ir::TrainSpec &t) {
    std::string kind = callee(v);
    if (kind != "rate" && kind != "direct" && kind != "latency" && kind != "delta") {
      diags_.error(v.loc, "unknown encoder '" + kind + "'" +
                              did_you_mean(kind, {"rate", "direct", "latency", "delta"}));
      return;
    }
    t.encoder = kind;
    args(v, {"steps"},
         [&](const std::string &, const Value &a) { t.steps = integer(a, "steps", 1); });
  }

  void loss(const Value &v, ir::TrainSpec &t) {
    std::string kind = callee(v);
    if (kind == "mse_count") {
      t.loss = kind;
      args(v, {"correct", "incorrect"}, [&](const std::string &n, const Value &a) {
        auto x = number(a, n);
        if (x) (n == "correct" ? t.correct : t.incorrect) = *x;
      });
    } else if (kind == "cross_entropy" || kind == "cross_entropy_membrane") {
      t.loss = kind;
      args(v, {}, [](const std::string &, const Value &) {});
    } else if (kind == "mse_membrane") {
      t.loss = kind;
      t.correct = 1, t.incorrect = 0;
      args(v, {"on", "off"}, [&](const std::string &n, const Value &a) {
        auto x = number(a, n);
        if (x) (n == "on" ? t.correct : t.incorrect) = *x;
      });
    } else {
      diags_.error(v.loc, "unknown loss '" + kind + "'" +
                              did_you_mean(kind, {"mse_count", "cross_entropy",
                                                  "cross_entropy_membrane", "mse_membrane"}));
    }
  }

  void optim(const Value &v, ir::TrainSpec &t) {
    std::string kind = callee(v);
    if (kind != "adam" && kind != "sgd") {
      diags_.error(v.loc, "unknown optimizer '" + kind + "'" + did_you_mean(kind, {"adam", "sgd"}));
      return;
    }
    t.optim = kind;
    std::vector<std::string> allowed = {"lr", "weight_decay"};
    if (kind == "sgd") allowed.push_back("momentum");
    args(v, allowed, [&](const std::string &n, const Value &a) {
      auto x = number(a, n);
      if (!x) return;
      if (*x < 0) diags_.error(a.loc, "'" + n + "' must not be negative");
      if (n == "lr")
        t.lr = *x;
      else if (n == "momentum")
        t.momentum = *x;
      else
        t.weight_decay = *x;
    });
  }

  void train(const Value &v, ir::ExperimentSpec &spec) {
    args(v, {"epochs", "batch", "limit", "test_limit", "schedule", "clip"},
         [&](const std::string &n, const Value &a) {
           if (n == "epochs")
             spec.epochs = integer(a, n, 1);
           else if (n == "batch")
             spec.batch = integer(a, n, 1);
           else if (n == "limit")
             spec.train_limit = integer(a, n, 1);
           else if (n == "test_limit")
             spec.test_limit = integer(a, n, 1);
           else if (n == "clip")
             spec.clip = number(a, n).value_or(0);
           else if (a.kind == Value::String)
             spec.schedule = a.text;
           else
             spec.schedule = callee(a);
         });
  }

  std::optional<ir::Model> network(const Value &v) {
    std::string name = callee(v);
    if (name.empty()) {
      diags_.error(v.loc, "expected a network, e.g. CSNN(cell = Leaky)");
      return std::nullopt;
    }
    auto m = lower_model(file_, name, v.args, diags_, v.loc);
    if (!m) return std::nullopt;
    if (run_model_passes_ && !ir::run_model_pipeline(*m, diags_, ir::default_model_pipeline()))
      return std::nullopt;
    return m;
  }
};

}  // namespace

std::optional<ir::ExperimentSpec> lower_experiment(const ast::File &file, const std::string &name,
                                                   DiagnosticEngine &diags, bool run_model_passes) {
  const ExperimentDef *e = nullptr;
  std::vector<std::string> names;
  for (const auto &x : file.experiments) {
    names.push_back(x.name);
    if (!e && (name.empty() || x.name == name)) e = &x;
  }
  if (!e) {
    diags.error({}, name.empty()
                        ? "the file declares no experiment"
                        : "no experiment named '" + name + "'" + did_you_mean(name, names));
    return std::nullopt;
  }
  // Lowered once per file: a later call reports the same diagnostics again and returns a
  // copy of the same result (not with errors reported before it, which make it fail).
  const size_t index = static_cast<size_t>(e - file.experiments.data());
  const bool reuse = run_model_passes && !diags.has_errors();
  if (reuse && file.lowered) {
    auto hit = file.lowered->entries.find(index);
    if (hit != file.lowered->entries.end()) {
      for (const auto &d : hit->second.diagnostics) {
        if (d.severity == Severity::Error)
          diags.error(d.loc, d.message);
        else if (d.severity == Severity::Warning)
          diags.warning(d.loc, d.message);
        else
          diags.note(d.loc, d.message);
      }
      return hit->second.spec;
    }
  }
  const size_t before = diags.diagnostics().size();
  auto spec = ExperimentLowering(file, diags, run_model_passes).run(*e);
  if (spec && reuse) {
    if (!file.lowered) file.lowered = std::make_shared<ast::LoweredExperiments>();
    file.lowered->entries[index] = {
        *spec,
        {diags.diagnostics().begin() + static_cast<std::ptrdiff_t>(before),
         diags.diagnostics().end()}};
  }
  return spec;
}

}  // namespace snnc::frontend
