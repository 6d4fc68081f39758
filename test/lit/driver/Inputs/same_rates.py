"""Compares the population rates of two simulation summaries (snnc run's summary.json).

usage: same_rates.py A.json B.json TOLERANCE
Exits non-zero when a population's rate differs by more than TOLERANCE (relative), e.g.
between the CPU and a GPU, where atomic additions in another order change single spikes.
"""
import json
import sys

a, b = (json.load(open(p)) for p in sys.argv[1:3])
tolerance = float(sys.argv[3])
ra = {p["name"]: p["rate_hz"] for p in a["populations"]}
rb = {p["name"]: p["rate_hz"] for p in b["populations"]}
if ra.keys() != rb.keys():
    sys.exit(f"populations differ: {sorted(ra)} vs {sorted(rb)}")
for name in ra:
    if abs(ra[name] - rb[name]) > tolerance * max(ra[name], 1e-9):
        sys.exit(f"{name}: {ra[name]:.3f} Hz vs {rb[name]:.3f} Hz")
    print(f"{name}: {ra[name]:.3f} Hz vs {rb[name]:.3f} Hz")
