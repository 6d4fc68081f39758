#!/usr/bin/env python3
"""Writes stdp_small.json: Brian2's spike times and final weights for the network of
stdp_small.snn (the same equations, parameters, integration method and schedule).

Run with Debian's Brian2 (python3-brian): /usr/bin/python3 stdp_small.py > stdp_small.json
"""
import json
import sys

from brian2 import (NeuronGroup, Synapses, SpikeMonitor, Network, defaultclock, ms, mV,
                    prefs)

prefs.codegen.target = "numpy"  # plain double arithmetic, no compiler needed
defaultclock.dt = 0.1 * ms

eqs = """
dv/dt = (ge * (0*mV - v) + El + drive - v) / tau : volt
dge/dt = -ge / (5*ms) : 1
drive : volt (constant)
"""
tau, vt, vr, El = 10 * ms, -54 * mV, -60 * mV, -70 * mV
groups = {}
for name, drive_mv in (("A", 18), ("B", 25), ("C", 40), ("P", 15.5)):
    g = NeuronGroup(1, eqs, threshold="v > vt", reset="v = vr", method="euler", name=name,
                    namespace={"tau": tau, "vt": vt, "vr": vr, "El": El})
    g.v = vr
    g.drive = drive_mv * mV
    groups[name] = g

gmax = 0.05
ns = {"taupre": 20 * ms, "taupost": 20 * ms, "gmax": gmax, "dApre": 0.01 * gmax,
      "dApost": -0.0105 * gmax}
model = """w : 1
dapre/dt = -apre / taupre : 1 (event-driven)
dapost/dt = -apost / taupost : 1 (event-driven)"""
on_pre = """ge_post += w
apre += dApre
w = clip(w + apost, 0, gmax)"""
on_post = """apost += dApost
w = clip(w + apre, 0, gmax)"""
synapses = {}
for pre, w0, delay in (("A", 0.02, None), ("B", 0.03, 2 * ms), ("C", 0.01, None)):
    s = Synapses(groups[pre], groups["P"], model, on_pre=on_pre, on_post=on_post,
                 namespace=ns, name=pre + "_to_P")
    s.connect()
    s.w = w0
    if delay is not None:
        s.delay = delay
    synapses[pre] = s

monitors = {n: SpikeMonitor(g) for n, g in groups.items()}
net = Network(list(groups.values()) + list(synapses.values()) + list(monitors.values()))
net.run(2000 * ms)
out = {
    "source": "Brian2 " + __import__("brian2").__version__ + ", numpy target, dt 0.1 ms",
    "spike_steps": {n: [int(round(float(t / ms) * 10)) for t in m.t] for n, m in monitors.items()},
    "weights": {pre + "_to_P": float(s.w[0]) for pre, s in synapses.items()},
}
json.dump(out, sys.stdout, indent=1)
sys.stdout.write("\n")
