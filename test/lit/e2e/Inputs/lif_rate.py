"""Checks a LIF neuron's firing rate against the analytic formula.

usage: lif_rate.py SPIKES_CSV I_nA  (parameters of examples/lif_constant_current.snn)
rate = 1 / (t_ref + tau_m * ln((v_rest + R*I - v_reset) / (v_rest + R*I - v_th)))
Below rheobase (v_rest + R*I <= v_th) there must be no spike at all.
"""
import csv
import math
import sys

tau_m, v_rest, v_th, v_reset, R, t_ref = 10e-3, -65e-3, -50e-3, -65e-3, 100e6, 2e-3
path, current = sys.argv[1], float(sys.argv[2]) * 1e-9
times = [float(r["time_s"]) for r in csv.DictReader(open(path))]
v_inf = v_rest + R * current
if v_inf <= v_th:
    print(f"I={current:g} A: below rheobase, {len(times)} spikes")
    sys.exit(0 if not times else 1)
expected = 1.0 / (t_ref + tau_m * math.log((v_inf - v_reset) / (v_inf - v_th)))
isis = [b - a for a, b in zip(times, times[1:])]
if len(isis) < 5:
    print(f"I={current:g} A: only {len(times)} spikes")
    sys.exit(1)
measured = len(isis) / sum(isis)
error = abs(measured - expected) / expected
print(f"I={current:g} A: rate {measured:.4f} Hz, analytic {expected:.4f} Hz, error {100 * error:.3f} %")
sys.exit(0 if error < 0.01 else 1)
