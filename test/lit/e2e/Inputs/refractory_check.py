"""traces.csv of adaptive-threshold.snn: after the first spike v stays at 0 for the
refractory period (50 steps) while theta decays every step."""
import csv
import sys

rows = [[float(x) for x in r] for r in list(csv.reader(open(sys.argv[1])))[1:]]
v = [r[1] for r in rows]
theta = [r[2] for r in rows]
spike = next(k for k in range(1, len(v)) if v[k] == 0 and v[k - 1] > 0)
held = 0
while spike + held < len(v) and v[spike + held] == 0:
    held += 1
assert held == 51, "v at reset for %d steps (the spike step and 50 more)" % held
assert all(theta[k + 1] < theta[k] for k in range(spike, spike + 49)), theta[spike:spike + 5]
print("v held %d steps after the spike; theta decayed during them" % (held - 1))
