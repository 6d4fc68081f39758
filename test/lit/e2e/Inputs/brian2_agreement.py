"""Compares an snnc run's spikes.csv and synapses.csv with a reference JSON written by
Brian2 (test/reference/brian2/*.py): spike steps equal, final weights to 1e-9 relative."""
import csv
import json
import sys

out, ref = sys.argv[1], json.load(open(sys.argv[2]))
steps = {}
for r in csv.DictReader(open(out + "/spikes.csv")):
    steps.setdefault(r["group"], []).append(round(float(r["time_s"]) * 1e4))
for group, want in ref["spike_steps"].items():
    got = steps.get(group, [])
    if got != want:
        first = next((k for k, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))
        sys.exit("%s: %d spikes against Brian2's %d; first difference at spike %d" %
                 (group, len(got), len(want), first))
weights = {r["connection"]: float(r["w"]) for r in csv.DictReader(open(out + "/synapses.csv"))}
for conn, want in ref["weights"].items():
    rel = abs(weights[conn] - want) / abs(want)
    if rel > 1e-9:
        sys.exit("%s: weight %.17g against Brian2's %.17g" % (conn, weights[conn], want))
print("agrees with Brian2: %d spikes, %d weights" %
      (sum(len(v) for v in ref["spike_steps"].values()), len(ref["weights"])))
