"""Checks the final test accuracy of run ROLE in a training summary lies in [lo, hi].
usage: accuracy.py SUMMARY_JSON ROLE LO HI"""
import json
import sys

s = json.load(open(sys.argv[1]))
run = next(r for r in s["runs"] if r["role"] == sys.argv[2])
acc = run["final_test_accuracy"]
lo, hi = float(sys.argv[3]), float(sys.argv[4])
print(f"{sys.argv[2]}: test accuracy {acc:.4f}, expected [{lo}, {hi}]; epochs {len(run['epochs'])}")
assert all(k in run["epochs"][0] for k in ("train_loss", "train_accuracy", "test_accuracy", "wall_time_s",
                                            "samples_per_s", "spike_rate"))
sys.exit(0 if lo <= acc <= hi else 1)
