"""synapses.csv of stdp_delays.snn: every weight change is A exp(-k dt / tau) for a whole
number of steps k = (30 ms - d) / dt with d in [1 ms, 20 ms], and the delays differ."""
import csv
import math
import sys

A, TAU, DT = 0.01, 16.8e-3, 1e-4
steps = []
for r in csv.DictReader(open(sys.argv[1])):
    dw = float(r["w"]) - 0.5
    k = -math.log(dw / A) * TAU / DT
    assert abs(k - round(k)) < 1e-6, "weight change %.17g is no whole number of steps (%f)" % (dw, k)
    k = round(k)
    assert 100 <= k <= 290, k
    steps.append(k)
assert len(steps) == 50 and len(set(steps)) > 20, steps
print("50 synapses potentiated by their own delays: %d..%d steps from arrival to spike" %
      (min(steps), max(steps)))
