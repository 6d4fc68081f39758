#!/usr/bin/env python3
"""Brian2's run of the model in examples/stdp_song2000.snn (Song, Miller & Abbott 2000, as
in Brian2's STDP example): writes the final weight distribution as JSON. Used as the
reference for snnc's weights (test/lit/e2e/stdp-song.test) and timed by bench/plasticity.py.

  /usr/bin/python3 song2000.py [--seconds S] [--seed N] [--device cpp_standalone|runtime]
"""
import argparse
import json
import sys
import tempfile
import time

import numpy as np
import brian2 as b2
from brian2 import ms, mV, Hz, second


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=100.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--device", default="cpp_standalone")
    a = ap.parse_args()
    build_dir = None
    if a.device == "cpp_standalone":
        build_dir = tempfile.mkdtemp(prefix="brian2-song-")
        b2.set_device("cpp_standalone", directory=build_dir, build_on_run=False)
    else:
        b2.prefs.codegen.target = "cython" if a.device == "cython" else "numpy"
    b2.seed(a.seed)
    b2.defaultclock.dt = 0.1 * ms
    N, taum, taupre, taupost = 1000, 10 * ms, 20 * ms, 20 * ms
    Ee, vt, vr, El, taue, F = 0 * mV, -54 * mV, -60 * mV, -74 * mV, 5 * ms, 15 * Hz
    gmax = 0.01
    dApre = 0.01 * gmax
    dApost = -0.01 * gmax * taupre / taupost * 1.05
    eqs = """dv/dt = (ge * (Ee-v) + El - v) / taum : volt
             dge/dt = -ge / taue : 1"""
    inputs = b2.PoissonGroup(N, rates=F)
    neuron = b2.NeuronGroup(1, eqs, threshold="v>vt", reset="v = vr", method="euler")
    neuron.v = vr
    S = b2.Synapses(inputs, neuron,
                    """w : 1
                       dapre/dt = -apre / taupre : 1 (event-driven)
                       dapost/dt = -apost / taupost : 1 (event-driven)""",
                    on_pre="""ge += w
                              apre += dApre
                              w = clip(w + apost, 0, gmax)""",
                    on_post="""apost += dApost
                               w = clip(w + apre, 0, gmax)""")
    S.connect()
    S.w = "rand() * gmax"
    spikes = b2.SpikeMonitor(neuron)
    t0 = time.perf_counter()
    b2.run(a.seconds * second)
    if build_dir:
        b2.device.build(directory=build_dir, compile=True, run=True)
    wall = time.perf_counter() - t0
    w = np.asarray(S.w[:]) / gmax
    out = {
        "source": "Brian2 %s, %s, dt 0.1 ms, seed %d" % (b2.__version__, a.device, a.seed),
        "seconds": a.seconds,
        "wall_s": wall,
        "run_s": float(b2.device._last_run_time) if build_dir else wall,
        "output_spikes": int(spikes.num_spikes),
        "fraction_above_0.9": float(np.mean(w > 0.9)),
        "fraction_below_0.1": float(np.mean(w < 0.1)),
        "mean_over_gmax": float(np.mean(w)),
        "histogram": np.histogram(w, bins=10, range=(0, 1))[0].tolist(),
    }
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
