"""The Python package: compile errors with locations, simulation results as NumPy arrays
against independent expectations, training with callbacks, and predictions that equal the
command line's evaluation sample by sample. Run by ctest (entry `python`)."""
import csv
import gzip
import io
import json
import os
import re
import struct
import subprocess
import sys
import tempfile
import unittest

import numpy

import snnc

SOURCE = os.environ.get("SNNC_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
EXAMPLES = os.path.join(SOURCE, "examples")
SYNTHETIC = os.path.join(SOURCE, "test", "lit", "e2e", "train-synthetic.snn")
MAKE_IDX = os.path.join(SOURCE, "test", "lit", "e2e", "Inputs", "make_idx.py")


def read_idx_images(path):
    with open(path, "rb") as f:
        data = f.read()
    _, count, rows, cols = struct.unpack(">IIII", data[:16])
    return numpy.frombuffer(data[16:], numpy.uint8).reshape(count, rows * cols) / 255.0


class CompileTest(unittest.TestCase):
    def test_error_carries_location_and_caret(self):
        text = "neuron N {\n  state v: mV = 0mV\n  dv/dt = v + 1ms\n}\n"
        with self.assertRaises(snnc.CompileError) as caught:
            snnc.compile(text, name="bad.snn")
        message = str(caught.exception)
        self.assertRegex(message, r"bad\.snn:3:\d+: error: ")
        self.assertIn("  dv/dt = v + 1ms\n", message)
        self.assertRegex(message, r"\n *\^")

    def test_missing_file(self):
        with self.assertRaisesRegex(RuntimeError, "cannot read 'no/such.snn'"):
            snnc.compile("no/such.snn")

    def test_program_lists_its_parts(self):
        program = snnc.compile(os.path.join(EXAMPLES, "cuba.snn"))
        self.assertEqual(program.simulations, ["cuba"])
        self.assertIn("CUBA", program.networks)
        self.assertIn("cuba", repr(program))
        with self.assertRaisesRegex(ValueError, "has no experiment"):
            program.experiment()


class SimulateTest(unittest.TestCase):
    def test_lif_rate_and_trace_match_the_closed_form(self):
        program = snnc.compile(os.path.join(EXAMPLES, "lif_constant_current.snn"))
        sim = program.simulate(set={"lif.duration": "0.5s"})
        times, neurons = sim.spikes("n")
        self.assertEqual(times.dtype, numpy.float64)
        self.assertEqual(len(times), sim.spike_count("n"))
        self.assertTrue(numpy.all(numpy.diff(times) > 0))
        self.assertTrue(numpy.all(neurons == 0))
        # the interval between spikes of a LIF driven by a constant current (the example's
        # parameters): t_ref + tau_m ln((v_inf - v_reset) / (v_inf - v_th))
        tau_m, v_rest, v_th, v_reset, R, t_ref, I = 10e-3, -65e-3, -50e-3, -65e-3, 100e6, 2e-3, 0.2e-9
        v_inf = v_rest + R * I
        expected = t_ref + tau_m * numpy.log((v_inf - v_reset) / (v_inf - v_th))
        isi = numpy.diff(times)
        self.assertGreater(len(isi), 20)
        self.assertLess(abs(isi.mean() - expected) / expected, 0.01)
        t, v = sim.trace("n", "v")
        self.assertEqual(v.shape, (sim.steps, 1))
        self.assertAlmostEqual(t[1] - t[0], sim.dt)

    def test_cuba_rates_and_arrays(self):
        program = snnc.compile(os.path.join(EXAMPLES, "cuba.snn"))
        sim = program.simulate(set={"cuba.duration": "0.3s"}, seed=2)
        self.assertEqual(sim.groups, ["E", "Inh"])
        for group in ("E", "Inh"):
            self.assertGreater(sim.rate(group), 2.0)
            self.assertLess(sim.rate(group), 15.0)
            times, neurons = sim.spikes(group)
            if len(times):
                self.assertLessEqual(times.max(), 0.3)
                self.assertLess(neurons.max(), 3200 if group == "E" else 800)
        again = program.simulate(set={"cuba.duration": "0.3s"}, seed=2)
        numpy.testing.assert_array_equal(again.spikes("E")[1], sim.spikes("E")[1])
        with self.assertRaisesRegex(KeyError, "no group 'X'"):
            sim.spikes("X")
        with self.assertRaisesRegex(RuntimeError, "unknown parameter 'nope'"):
            program.simulate(set={"nope": "1ms"})


class PlasticityTest(unittest.TestCase):
    def test_song_weights_as_arrays(self):
        program = snnc.compile(os.path.join(EXAMPLES, "stdp_song2000.snn"))
        sim = program.simulate(set={"song2000.duration": "20s"})
        w = sim.plastic["inputs_to_N"]["w"]
        self.assertEqual(w.shape, (1000,))
        self.assertGreaterEqual(w.min(), 0.0)
        self.assertLessEqual(w.max(), 0.01)
        numpy.testing.assert_array_equal(sim.plastic["inputs_to_N"]["pre"], numpy.arange(1000))
        self.assertIsNone(sim.protocol)
        fixed = program.simulate(set={"song2000.duration": "20s", "song2000.learning": "0"})
        # with learning off the weights stay where they started
        start = program.simulate(set={"song2000.duration": "0.1ms", "song2000.learning": "0"})
        numpy.testing.assert_array_equal(fixed.plastic["inputs_to_N"]["w"],
                                         start.plastic["inputs_to_N"]["w"])


class TrainPredictTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.data = os.path.join(cls.tmp.name, "data")
        subprocess.run([sys.executable, MAKE_IDX, cls.data, "160", "40"], check=True)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_train_then_predict_equals_the_evaluation(self):
        program = snnc.compile(SYNTHETIC)
        seen = []
        out = os.path.join(self.tmp.name, "run")
        epochs = program.experiment("synthetic").train(
            epochs=2, data=self.data, out=out, compare=False, on_epoch=seen.append)
        self.assertEqual([e["epoch"] for e in epochs], [1, 2])
        self.assertEqual(seen, epochs)
        self.assertGreater(epochs[-1]["test_accuracy"], 0.5)  # chance: 0.1
        self.assertTrue(os.path.exists(os.path.join(out, "summary.json")))

        model = snnc.load(SYNTHETIC, os.path.join(out, "model.safetensors"))
        self.assertEqual((model.features, model.classes, model.steps), (784, 10, 10))
        images = read_idx_images(os.path.join(self.data, "t10k-images-idx3-ubyte"))
        predicted = model.predict(images.astype(numpy.float32))
        self.assertEqual(predicted.dtype, numpy.int32)
        with open(os.path.join(out, "model_predictions.csv")) as f:
            expected = [int(row["predicted"]) for row in csv.DictReader(f)]
        self.assertEqual(predicted.tolist(), expected)
        # [N, 1, 28, 28] is the same batch
        numpy.testing.assert_array_equal(model.predict(images.reshape(-1, 1, 28, 28)), predicted)
        # the standalone binary built from Python predicts the same
        binary = os.path.join(self.tmp.name, "classify")
        built = program.build(os.path.join(out, "model.safetensors"), binary)
        self.assertEqual((built["network"], built["output"]), ("Net", binary))
        run = subprocess.run([binary, "--json", os.path.join(self.data, "t10k-images-idx3-ubyte")],
                             check=True, capture_output=True, text=True)
        self.assertEqual(json.loads(run.stdout)["predictions"], expected)
        with self.assertRaisesRegex(ValueError, "784 values each"):
            model.predict(numpy.zeros((2, 100)))
        with self.assertRaisesRegex(ValueError, r"must lie in \[0, 1\]"):
            model.predict(numpy.full((1, 784), 2.0))

    def test_bad_weights_and_data(self):
        with self.assertRaisesRegex(RuntimeError, "cannot open|no such|No such"):
            snnc.load(SYNTHETIC, os.path.join(self.tmp.name, "missing.safetensors"))
        program = snnc.compile(SYNTHETIC)
        with self.assertRaisesRegex(RuntimeError, "no training images"):
            program.experiment().train(data=os.path.join(self.tmp.name, "nowhere"),
                                       out=os.path.join(self.tmp.name, "x"))


class DocsTest(unittest.TestCase):
    def test_help_and_python_md_example_runs(self):
        self.assertIn("Compile a .snn file", snnc.__doc__)
        self.assertIn("Trains the experiment", snnc.Experiment.train.__doc__)
        with open(os.path.join(SOURCE, "docs", "python.md")) as f:
            blocks = re.findall(r"```python\n(.*?)```", f.read(), re.S)
        self.assertTrue(blocks)
        try:
            import matplotlib
        except ImportError:
            self.skipTest("matplotlib is not installed")
        matplotlib.use("Agg")
        with tempfile.TemporaryDirectory() as tmp:
            cwd = os.getcwd()
            os.chdir(tmp)
            try:
                for block in blocks:
                    exec(compile(block.replace("examples/", EXAMPLES + "/"), "python.md", "exec"),
                         {})
                self.assertGreater(os.path.getsize("raster.png"), 1000)
            finally:
                os.chdir(cwd)


if __name__ == "__main__":
    unittest.main()
