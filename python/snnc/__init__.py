"""snnc: a compiler for spiking neural networks, from Python.

Compile a .snn file (or a string holding one), then simulate its population networks,
train its experiments, or classify images with trained weights:

    import snnc
    program = snnc.compile("examples/cuba.snn")
    result = program.simulate(seed=2)
    times, neurons = result.spikes("E")          # NumPy arrays, seconds and indices

    mnist = snnc.compile("examples/mnist_fc.snn")
    epochs = mnist.experiment().train(epochs=1, limit=2000)
    model = snnc.load("examples/mnist_fc.snn", epochs_dir + "/model.safetensors")
    labels = model.predict(images)                # images: [N, 784] floats in [0, 1]

Errors in a source raise snnc.CompileError, whose message is what `snnc check` prints:
file:line:col, the line and a caret under the problem.
"""
import os as _os

from . import _snnc
from ._snnc import CompileError

__all__ = ["compile", "load", "CompileError", "Program", "Experiment", "Simulation", "Model"]


def _is_source(text):
    return "\n" in text or "{" in text


class Simulation:
    """The outcome of Program.simulate: spikes and traces in memory.

    Attributes: name, dt (s), steps, duration (s), seed, synapses, synaptic_events,
    compile_seconds, run_seconds; groups (names of populations and Poisson sources);
    plastic (per connection with a synapse model: arrays 'pre', 'post' and each per-synapse
    state such as 'w', at the end of the run); protocol (for present/learn/classify: a dict
    with accuracy, learned, tested, assignment, predictions, labels...; else None).
    """

    def __init__(self, result):
        self._result = result
        self._groups = {g["name"]: g for g in result.groups}
        self._traces = result.traces
        self.name = result.simulation
        self.dt = result.dt
        self.steps = result.steps
        self.duration = result.dt * result.steps
        self.seed = result.seed
        self.synapses = result.synapses
        self.synaptic_events = result.synaptic_events
        self.compile_seconds = result.compile_seconds
        self.run_seconds = result.run_seconds
        self.groups = list(self._groups)
        self.plastic = result.plastic
        self.protocol = result.protocol

    def _group(self, name):
        if name not in self._groups:
            raise KeyError(f"no group '{name}' in simulation '{self.name}' "
                           f"(groups: {', '.join(self.groups)})")
        return self._groups[name]

    def spikes(self, group):
        """(times, neurons) of a recorded group's spikes: times in seconds (float64) and
        neuron indices (int32), in time order. Empty unless the simulation records the group
        (`record spikes(...)`)."""
        g = self._group(group)
        return g["times"], g["neurons"]

    def spike_count(self, group):
        """All spikes of a group, recorded or not."""
        return self._group(group)["spike_count"]

    def rate(self, group):
        """Mean firing rate of a group in Hz."""
        g = self._group(group)
        return g["spike_count"] / (g["size"] * self.duration)

    def trace(self, group, variable):
        """(times, values) of a traced state variable (`record trace(...)`): times [steps]
        in seconds, values [steps, neurons] in SI units."""
        for t in self._traces:
            if t["group"] == group and t["variable"] == variable:
                import numpy
                values = t["values"]
                return numpy.arange(values.shape[0]) * self.dt, values
        have = ", ".join(f"{t['group']}.{t['variable']}" for t in self._traces) or "none"
        raise KeyError(f"no trace of {group}.{variable} (traced: {have})")

    def write_outputs(self, directory):
        """Writes spikes.csv, traces.csv, raster.svg and, with plasticity, synapses.csv (and
        a protocol's receptive_fields.png), as `snnc run` does."""
        self._result.write_outputs(str(directory))

    def __repr__(self):
        counts = ", ".join(f"{n}: {g['spike_count']} spikes" for n, g in self._groups.items())
        return (f"<snnc.Simulation '{self.name}': {self.duration:g} s in {self.steps} steps; "
                f"{counts}>")


class Experiment:
    """An experiment of a program: train(...) runs it (see help(Experiment.train))."""

    def __init__(self, program, name):
        self._program = program
        self.name = name

    def train(self, epochs=0, limit=None, test_limit=None, data=None, out=None, resume=None,
              seed=None, compare=True, verbose=False, on_epoch=None):
        """Trains the experiment's model (and, with compare=True, its ANN twin), evaluating on
        the test set after every epoch; writes checkpoints, summary.json and report.html into
        the run directory `out` (default out/<experiment>/run-<date>-<time>).

        epochs: 0 = the experiment's; limit / test_limit: use only the first N samples;
        data: the data set directory; resume: continue the run in that directory;
        verbose: print what `snnc run` prints; on_epoch(metrics): called after each epoch.
        Returns a list of per-epoch metrics (dicts: role, network, epoch, train_loss,
        train_accuracy, test_accuracy, seconds, samples_per_second). Ctrl-C stops it between
        batches (KeyboardInterrupt); the last finished epoch can be resumed."""
        return self._program._program.train(
            experiment=self.name, epochs=epochs, limit=-1 if limit is None else limit,
            test_limit=-1 if test_limit is None else test_limit, data=data or "",
            out=str(out or ""), resume=str(resume or ""), seed=-1 if seed is None else seed,
            compare=compare, verbose=verbose, on_epoch=on_epoch)

    def __repr__(self):
        return f"<snnc.Experiment '{self.name}' of {self._program.name}>"


class Program:
    """A compiled .snn source: simulations, experiments and networks by name."""

    def __init__(self, program):
        self._program = program
        self.name = program.name
        self.simulations = list(program.simulations)
        self.experiments = list(program.experiments)
        self.networks = list(program.networks)
        self.warnings = list(program.warnings)

    def simulate(self, simulation=None, set=None, seed=None, target="cpu"):
        """JIT-compiles and runs a simulation (default: the first). `set` overrides
        parameters with units, e.g. {"E.tau_m": "10ms"}; `seed` replaces the file's.
        Returns a Simulation. Ctrl-C stops it (KeyboardInterrupt)."""
        overrides = {k: str(v) for k, v in (set or {}).items()}
        return Simulation(self._program.simulate(
            simulation=simulation or "", set=overrides, seed=-1 if seed is None else seed,
            target=target))

    def build(self, weights, output, experiment=None, compare=False, prune=0.0,
              target="native"):
        """Compiles an experiment's trained network (its `compare` twin with compare=True)
        with the checkpoint `weights` into the standalone executable `output`, as
        `snnc build` does (prune: zero that fraction of each hidden linear layer's smallest
        weights; target: native, an LLVM CPU name, or cuda). Returns a dict: output,
        network, tensors, target."""
        return self._program.build(weights=_os.fspath(weights), output=_os.fspath(output),
                                   experiment=experiment or "", compare=compare, prune=prune,
                                   target=target)

    def experiment(self, name=None):
        """The experiment `name` (default: the first), to train."""
        if name is None:
            if not self.experiments:
                raise ValueError(f"{self.name} has no experiment")
            name = self.experiments[0]
        elif name not in self.experiments:
            raise KeyError(f"no experiment '{name}' in {self.name} "
                           f"(experiments: {', '.join(self.experiments) or 'none'})")
        return Experiment(self, name)

    def __repr__(self):
        parts = [f"{k}: {', '.join(v)}" for k, v in (("simulations", self.simulations),
                                                    ("experiments", self.experiments),
                                                    ("networks", self.networks)) if v]
        return f"<snnc.Program {self.name} ({'; '.join(parts) or 'empty'})>"


class Model:
    """A trained network with its weights: predict(images) classifies a batch."""

    def __init__(self, predictor):
        self._predictor = predictor
        self.network = predictor.network
        self.features = predictor.features
        self.classes = predictor.classes
        self.steps = predictor.steps

    def predict(self, images):
        """Class of each image: `images` is an array [N, ...] of N * features floats in [0, 1]
        (e.g. [N, 784] or [N, 1, 28, 28] for MNIST). Encoded and decoded as the experiment's
        evaluation does, so predictions equal `snnc run`'s. Returns int32 [N]."""
        return self._predictor.predict(images)

    def __repr__(self):
        return (f"<snnc.Model {self.network}: {self.features} inputs, {self.classes} classes, "
                f"{self.steps} steps>")


def compile(source, name=None):
    """Compiles a .snn file (a path) or a source string (text with a newline or a brace) into
    a Program. Raises CompileError with located diagnostics, OSError-like RuntimeError for an
    unreadable file."""
    if isinstance(source, _os.PathLike) or not _is_source(source):
        return Program(_snnc.Program.compile_file(_os.fspath(source)))
    return Program(_snnc.Program.compile_source(source, name or "<string>"))


def load(source, weights, experiment=None, compare=False):
    """A trained network of an experiment (its `compare` twin with compare=True) with the
    weights of a checkpoint (e.g. <run>/model.safetensors). `source` is a path, a source
    string or a Program."""
    program = source if isinstance(source, Program) else compile(source)
    return Model(_snnc.Predictor.load(program._program, _os.fspath(weights), experiment or "",
                                      compare))
