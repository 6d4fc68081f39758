// snnc_module.cpp — the Python bindings (module snnc._snnc) of include/snnc/snnc.h: programs,
// simulation results as NumPy arrays, training with per-epoch callbacks, prediction on NumPy
// batches. The package snnc (python/snnc/__init__.py) re-exports them with its docstrings.
#include <Python.h>
#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "snnc/snnc.h"

namespace py = pybind11;
using namespace snnc;

namespace {

/// Raises KeyboardInterrupt (through error_already_set) when the user pressed Ctrl-C; called
/// from the callbacks of long runs, so an interrupt stops them between batches.
void check_signals() {
  py::gil_scoped_acquire gil;
  if (PyErr_CheckSignals() != 0) throw py::error_already_set();
}

py::dict epoch_dict(const EpochMetrics &m) {
  py::dict d;
  d["role"] = m.role;
  d["network"] = m.network;
  d["replicate"] = m.replicate;
  d["epoch"] = m.epoch;
  d["epochs"] = m.epochs;
  d["train_loss"] = m.train_loss;
  d["train_accuracy"] = m.train_accuracy;
  d["test_accuracy"] = m.test_accuracy;
  d["seconds"] = m.seconds;
  d["samples_per_second"] = m.samples_per_second;
  return d;
}

template <typename T>
py::array_t<T> to_array(const std::vector<T> &v) {
  py::array_t<T> a(static_cast<py::ssize_t>(v.size()));
  std::copy(v.begin(), v.end(), a.mutable_data());
  return a;
}

SimulationResult simulate(const Program &p, const std::string &simulation,
                          const std::map<std::string, std::string> &set, int64_t seed,
                          const std::string &target) {
  SimulationOptions o;
  o.simulation = simulation;
  for (const auto &[name, value] : set) o.set.push_back(name + "=" + value);
  o.seed = seed;
  o.target = target;
  o.on_progress = [](int64_t, int64_t) { check_signals(); };
  py::gil_scoped_release release;
  return p.simulate(o);
}

py::list train(const Program &p, const std::string &experiment, int64_t epochs, int64_t limit,
               int64_t test_limit, const std::string &data, const std::string &out,
               const std::string &resume, int64_t seed, bool compare, bool verbose,
               const std::function<void(py::dict)> &on_epoch) {
  TrainOptions o;
  o.experiment = experiment;
  o.epochs = epochs;
  o.train_limit = limit;
  o.test_limit = test_limit;
  o.data_dir = data;
  o.out_dir = out;
  o.resume_dir = resume;
  o.seed = seed;
  o.no_compare = !compare;
  if (verbose)
    o.on_log = [](const std::string &line) {
      py::gil_scoped_acquire gil;
      py::print(line, py::arg("end") = "", py::arg("flush") = true);
    };
  o.on_progress = [](const TrainProgress &) { check_signals(); };
  if (on_epoch)
    o.on_epoch = [&on_epoch](const EpochMetrics &m) {
      py::gil_scoped_acquire gil;
      on_epoch(epoch_dict(m));
    };
  TrainResult r;
  {
    py::gil_scoped_release release;
    r = p.train(o);
  }
  py::list epochs_out;
  for (const auto &m : r.epochs) epochs_out.append(epoch_dict(m));
  return epochs_out;
}

py::dict build(const Program &p, const std::string &weights, const std::string &output,
               const std::string &experiment, bool compare, double prune,
               const std::string &target) {
  BuildOptions o;
  o.weights = weights;
  o.output = output;
  o.experiment = experiment;
  o.compare = compare;
  o.prune = prune;
  o.target = target;
  BuildResult r;
  {
    py::gil_scoped_release release;
    r = p.build(o);
  }
  py::dict d;
  d["output"] = r.output;
  d["network"] = r.network;
  d["tensors"] = r.tensors;
  d["target"] = r.target;
  return d;
}

py::array_t<int32_t> predict(Predictor &p,
                             py::array_t<float, py::array::c_style | py::array::forcecast> images) {
  const int64_t F = p.features();
  if (images.ndim() < 1 || images.size() % std::max<int64_t>(F, 1) != 0 ||
      (images.ndim() >= 2 && images.size() / images.shape(0) != F))
    throw py::value_error("expected a batch of images with " + std::to_string(F) +
                          " values each (shape [N, ...]), got " + std::to_string(images.size()) +
                          " values");
  const int64_t count = images.ndim() == 1 ? images.size() / F : images.shape(0);
  std::vector<int32_t> out;
  {
    py::gil_scoped_release release;
    out = p.predict(images.data(), count);
  }
  return to_array(out);
}

}  // namespace

PYBIND11_MODULE(_snnc, m) {
  m.doc() = "snnc's compiled core; use the `snnc` package.";
  py::register_exception<CompileError>(m, "CompileError", PyExc_ValueError);

  py::class_<Program>(m, "Program")
      .def_static("compile_file", &Program::compile_file, py::arg("path"))
      .def_static("compile_source", &Program::compile_source, py::arg("text"),
                  py::arg("name") = "<string>")
      .def_property_readonly("name", &Program::name)
      .def_property_readonly("simulations", &Program::simulations)
      .def_property_readonly("experiments", &Program::experiments)
      .def_property_readonly("networks", &Program::networks)
      .def_property_readonly("warnings", &Program::warnings)
      .def("simulate", &simulate, py::arg("simulation") = "",
           py::arg("set") = std::map<std::string, std::string>{}, py::arg("seed") = -1,
           py::arg("target") = "cpu")
      .def("train", &train, py::arg("experiment") = "", py::arg("epochs") = 0,
           py::arg("limit") = -1, py::arg("test_limit") = -1, py::arg("data") = "",
           py::arg("out") = "", py::arg("resume") = "", py::arg("seed") = -1,
           py::arg("compare") = true, py::arg("verbose") = false,
           py::arg("on_epoch") = std::function<void(py::dict)>{})
      .def("build", &build, py::arg("weights"), py::arg("output"), py::arg("experiment") = "",
           py::arg("compare") = false, py::arg("prune") = 0.0, py::arg("target") = "native");

  py::class_<SimulationResult>(m, "SimulationResult")
      .def_readonly("simulation", &SimulationResult::simulation)
      .def_readonly("dt", &SimulationResult::dt)
      .def_readonly("steps", &SimulationResult::steps)
      .def_readonly("seed", &SimulationResult::seed)
      .def_readonly("synapses", &SimulationResult::synapses)
      .def_readonly("synaptic_events", &SimulationResult::synaptic_events)
      .def_readonly("compile_seconds", &SimulationResult::compile_seconds)
      .def_readonly("connectivity_seconds", &SimulationResult::connectivity_seconds)
      .def_readonly("run_seconds", &SimulationResult::run_seconds)
      .def_property_readonly("groups",
                             [](const SimulationResult &r) {
                               py::list out;
                               for (const auto &g : r.groups) {
                                 py::dict d;
                                 d["name"] = g.name;
                                 d["size"] = g.size;
                                 d["population"] = g.population;
                                 d["spike_count"] = g.spike_count;
                                 d["times"] = [&] {
                                   std::vector<double> t(g.spike_steps.size());
                                   for (size_t i = 0; i < t.size(); ++i)
                                     t[i] = static_cast<double>(g.spike_steps[i]) * r.dt;
                                   return to_array(t);
                                 }();
                                 d["neurons"] = to_array(g.spike_neurons);
                                 out.append(d);
                               }
                               return out;
                             })
      .def_property_readonly("traces",
                             [](const SimulationResult &r) {
                               py::list out;
                               for (const auto &t : r.traces) {
                                 py::dict d;
                                 d["group"] = t.group;
                                 d["variable"] = t.variable;
                                 d["neurons"] = to_array(t.neurons);
                                 const auto n = static_cast<py::ssize_t>(t.neurons.size());
                                 py::array_t<double> values(
                                     {n ? static_cast<py::ssize_t>(t.values.size()) / n : 0, n});
                                 std::copy(t.values.begin(), t.values.end(), values.mutable_data());
                                 d["values"] = values;
                                 out.append(d);
                               }
                               return out;
                             })
      .def_property_readonly(
          "plastic",
          [](const SimulationResult &r) {
            py::dict out;  // connection -> {"pre", "post", and each per-synapse state}
            for (const auto &st : r.plastic) {
              py::dict d;
              d["pre"] = to_array(st.pre);
              d["post"] = to_array(st.post);
              for (const auto &[name, values] : st.variables) d[py::str(name)] = to_array(values);
              out[py::str(st.connection)] = d;
            }
            return out;
          },
          "Connections with a synapse model: the neurons each synapse joins and its final "
          "state (e.g. 'w') as NumPy arrays.")
      .def_property_readonly(
          "protocol",
          [](const SimulationResult &r) -> py::object {
            if (!r.has_protocol) return py::none();
            const ProtocolOutcome &p = r.protocol;
            py::dict d;
            d["learned"] = p.learned;
            d["assigned"] = p.assigned;
            d["tested"] = p.tested;
            d["correct"] = p.correct;
            d["accuracy"] = p.accuracy;
            d["repetitions"] = p.repetitions;
            d["learn_seconds"] = p.learn_seconds;
            d["assign_seconds"] = p.assign_seconds;
            d["test_seconds"] = p.test_seconds;
            d["assignment"] = to_array(p.assignment);
            d["predictions"] = to_array(p.predictions);
            d["labels"] = to_array(p.labels);
            return d;
          },
          "For a simulation with a protocol (present/learn/classify): samples, accuracy, "
          "label assignment and test predictions; None otherwise.")
      .def("write_outputs", &SimulationResult::write_outputs, py::arg("dir"));

  py::class_<Predictor>(m, "Predictor")
      .def_static("load", &Predictor::load, py::arg("program"), py::arg("weights"),
                  py::arg("experiment") = "", py::arg("compare") = false)
      .def_property_readonly("features", &Predictor::features)
      .def_property_readonly("classes", &Predictor::classes)
      .def_property_readonly("steps", &Predictor::steps)
      .def_property_readonly("network", &Predictor::network)
      .def("predict", &predict, py::arg("images"));
}
