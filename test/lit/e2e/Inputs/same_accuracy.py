"""The standalone binary's accuracy line equals the training run's final test accuracy.
usage: same_accuracy.py BINARY_OUTPUT SUMMARY_JSON ROLE"""
import json
import re
import sys

line = [l for l in open(sys.argv[1]) if l.startswith("accuracy:")][-1]
got = float(re.match(r"accuracy: ([0-9.]+)", line).group(1))
run = next(r for r in json.load(open(sys.argv[2]))["runs"] if r["role"] == sys.argv[3])
want = run["final_test_accuracy"]
print(f"binary {got:.6f}, snnc run {want:.6f}")
sys.exit(0 if abs(got - want) < 1e-9 else 1)
