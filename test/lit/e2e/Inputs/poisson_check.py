"""Checks poisson-and-connectivity.snn: the source fires n * rate * T = 10000 spikes
(+- 5 sigma of the Poisson count), every spike reaches its one_to_one target and the
all_to_all target once, and p = 0.5 gives about 100 * 200 / 2 synapses."""
import csv
import json
import sys

out = sys.argv[1]
summary = json.load(open(f"{out}/summary.json"))
spikes = summary["poisson_sources"][0]["spikes"]
print("poisson spikes", spikes)
assert 9500 <= spikes <= 10500, spikes
per_neuron = [0] * 100
for r in csv.DictReader(open(f"{out}/spikes.csv")):
    per_neuron[int(r["neuron"])] += 1
assert sum(per_neuron) == spikes
rows = list(csv.reader(open(f"{out}/traces.csv")))
last = [float(x) for x in rows[-1][1:]]
direct, total = last[:100], last[100]
# events of the last step reach the counters after the last trace row: allow that
last_step = float(rows[-1][0])
late = [0] * 100
for r in csv.DictReader(open(f"{out}/spikes.csv")):
    if abs(float(r["time_s"]) - last_step) < 1e-9:
        late[int(r["neuron"])] += 1
assert all(abs(d + l - p) < 1e-9 for d, l, p in zip(direct, late, per_neuron)), "one_to_one delivery"
assert abs(total + sum(late) - spikes) < 1e-9, ("all_to_all delivery", total, spikes)
synapses = summary["synapses"]
random_part = synapses - 100 - 100
print("random synapses", random_part)
assert abs(random_part - 10000) < 5 * 71, random_part  # binomial(20000, 0.5): sigma 70.7
