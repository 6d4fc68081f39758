"""Reference recurrence of a Leaky neuron: mem[t] = beta*mem[t-1] + I - spk[t-1]*thr,
spk[t] = mem[t] > thr. usage: leaky_reference.py SPIKES_CSV BETA THR I DT STEPS"""
import csv
import sys

path, beta, thr, current, dt, steps = sys.argv[1], *map(float, sys.argv[2:6]), int(sys.argv[6])
mem, spk, expected = 0.0, 0.0, []
for t in range(steps):
    mem = beta * mem + current - spk * thr
    spk = 1.0 if mem > thr else 0.0
    if spk:
        expected.append(t)
got = [round(float(r["time_s"]) / dt) for r in csv.DictReader(open(path))]
print("expected", expected[:8], "... got", got[:8], "...", len(expected), "vs", len(got))
sys.exit(0 if got == expected and expected else 1)
