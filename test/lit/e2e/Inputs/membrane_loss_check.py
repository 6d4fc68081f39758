"""Recomputes the membrane loss of a `snnc trace --out` JSON from the output layer's membrane
(state 0 of every step) and checks the trace's loss and prediction against it.
mse_membrane: mean over steps and outputs of (membrane - target)^2, target ON for the label and
OFF otherwise; cross_entropy_membrane: the mean over steps of -log softmax(membrane)[label].
The prediction is the output with the largest membrane over all steps.
usage: membrane_loss_check.py TRACE_JSON mse|ce [ON OFF]"""
import json
import math
import sys

j = json.load(open(sys.argv[1]))
kind = sys.argv[2]
out = j["layers"][-1]
T, K, S = j["steps"], out["features"], out["states_per_element"]
mem = [[out["state"][(t * S) * K + k] for k in range(K)] for t in range(T)]
label = j["label"]
if kind == "mse":
    on, off = float(sys.argv[3]), float(sys.argv[4])
    want = sum((m[k] - (on if k == label else off)) ** 2 for m in mem for k in range(K)) / (T * K)
else:
    want = 0.0
    for m in mem:
        top = max(m)
        want -= m[label] - top - math.log(sum(math.exp(v - top) for v in m))
    want /= T
best = max(range(K), key=lambda k: (max(m[k] for m in mem), -k))
print(f"loss {j['loss']:.6g} (recomputed {want:.6g}), prediction {j['prediction']} ({best})")
ok = abs(j["loss"] - want) <= 1e-4 * max(1.0, abs(want)) and j["prediction"] == best
sys.exit(0 if ok else 1)
