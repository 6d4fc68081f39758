"""Compares two experiment summaries (snnc run's summary.json) epoch by epoch: train loss
and test accuracy, spike rates and synaptic operation counts must agree to float rounding
(e.g. the CPU executor against the device executor run through the CUDA host shim).

usage: same_training.py A.json B.json
"""
import json
import sys

a, b = (json.load(open(p)) for p in sys.argv[1:3])


def close(x, y, rel=1e-4):
    return abs(x - y) <= rel * max(abs(x), abs(y), 1e-12)


ra, rb = a["runs"], b["runs"]
if [r["role"] for r in ra] != [r["role"] for r in rb]:
    sys.exit("different runs")
for x, y in zip(ra, rb):
    if len(x["epochs"]) != len(y["epochs"]):
        sys.exit(f"{x['role']}: {len(x['epochs'])} vs {len(y['epochs'])} epochs")
    for ex, ey in zip(x["epochs"], y["epochs"]):
        checks = [("train_loss", ex["train_loss"], ey["train_loss"]),
                  ("test_accuracy", ex["test_accuracy"], ey["test_accuracy"])]
        for k in ("accumulates", "multiply_accumulates"):
            checks.append((k, ex["ops_per_inference"][k], ey["ops_per_inference"][k]))
        for layer, rate in ex["spike_rate"].items():
            checks.append(("spike rate " + layer, rate, ey["spike_rate"].get(layer, -1)))
        for what, u, v in checks:
            if not close(u, v):
                sys.exit(f"{x['role']} epoch {ex['epoch']}: {what} {u} vs {v}")
    print(f"{x['role']}: {len(x['epochs'])} epochs agree")
