#!/usr/bin/env python3
"""The network of examples/diehl_cook.snn in Brian2 (runtime mode, Cython), timed per
learning sample: the peer of bench/plasticity.py's Diehl & Cook case. The same equations
(exponential Euler), parameters, STDP rule, normalisation before each sample, 350 ms + 150 ms
per sample and the repetition rule; one Brian2 run() per presentation and rest, as the
original code does.

  /usr/bin/python3 bench/brian2_diehl_cook.py --data data/mnist --images 200 [--neurons 400]
Prints JSON: seconds per sample (after the first, which includes code generation).
"""
import argparse
import gzip
import json
import os
import sys
import time

import numpy as np
import brian2 as b2
from brian2 import ms, mV, Hz


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * k:8 + 4 * k], "big") for k in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def images(folder):
    for name in ("train-images-idx3-ubyte", "train-images-idx3-ubyte.gz"):
        if os.path.exists(os.path.join(folder, name)):
            return read_idx(os.path.join(folder, name))
    sys.exit("no MNIST training images in " + folder)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="data/mnist")
    ap.add_argument("--images", type=int, default=200)
    ap.add_argument("--neurons", type=int, default=400)
    a = ap.parse_args()
    b2.prefs.codegen.target = "cython"
    b2.defaultclock.dt = 0.5 * ms
    b2.seed(1)
    n = a.neurons
    x = images(a.data)[: a.images].reshape(a.images, 784)
    exc = b2.NeuronGroup(
        n, """dv/dt = ((-65*mV - v) + ge * (0*mV - v) + gi * (-100*mV - v)) / (100*ms) : volt (unless refractory)
              dge/dt = -ge / (1*ms) : 1
              dgi/dt = -gi / (2*ms) : 1
              dtheta/dt = -theta / (1e7*ms) : volt""",
        threshold="v > theta - 20*mV - 52*mV", reset="v = -65*mV; theta += 0.05*mV",
        refractory=5 * ms, method="exponential_euler")
    exc.v = -105 * mV
    exc.theta = 20 * mV
    inh = b2.NeuronGroup(
        n, """dv/dt = ((-60*mV - v) + ge * (0*mV - v) + gi * (-85*mV - v)) / (10*ms) : volt (unless refractory)
              dge/dt = -ge / (1*ms) : 1
              dgi/dt = -gi / (2*ms) : 1""",
        threshold="v > -40*mV", reset="v = -45*mV", refractory=2 * ms, method="exponential_euler")
    inh.v = -100 * mV
    pixels = b2.PoissonGroup(784, rates=np.zeros(784) * Hz)
    stdp = b2.Synapses(
        pixels, exc,
        """w : 1
           dtpre/dt = -tpre / (20*ms) : 1 (event-driven)
           dtpost1/dt = -tpost1 / (20*ms) : 1 (event-driven)
           dtpost2/dt = -tpost2 / (40*ms) : 1 (event-driven)""",
        on_pre="ge_post += w; tpre = 1; w = clip(w - 0.0001 * tpost1, 0, 1)",
        on_post="w = clip(w + 0.01 * tpre * tpost2, 0, 1); tpost1 = 1; tpost2 = 1")
    stdp.connect()
    stdp.w = "0.3 * (rand() + 0.01)"
    e2i = b2.Synapses(exc, inh, on_pre="ge_post += 10.4")
    e2i.connect(j="i")
    i2e = b2.Synapses(inh, exc, on_pre="gi_post += 17")
    i2e.connect(condition="i != j")
    counter = b2.SpikeMonitor(exc, record=False)
    net = b2.Network(exc, inh, pixels, stdp, e2i, i2e, counter)
    post = np.asarray(stdp.j[:])
    times = []
    for k in range(a.images):
        t0 = time.perf_counter()
        w = np.asarray(stdp.w[:])
        sums = np.bincount(post, weights=w, minlength=n)
        stdp.w = w * (78.0 / sums)[post]
        rate = 63.75
        while True:
            before = counter.num_spikes
            pixels.rates = x[k] / 255.0 * rate * Hz
            net.run(350 * ms)
            pixels.rates = 0 * Hz
            net.run(150 * ms)
            if counter.num_spikes - before >= 5 or rate > 63.75 + 19 * 31.875:
                break
            rate += 31.875
        times.append(time.perf_counter() - t0)
    steady = times[1:] if len(times) > 1 else times
    json.dump({"source": "Brian2 %s, cython runtime, %d excitatory neurons" % (b2.__version__, n),
               "images": a.images, "first_image_s": times[0],
               "seconds_per_image": float(np.median(steady)),
               "seconds_per_image_mean": float(np.mean(steady))}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
