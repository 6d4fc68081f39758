"""Checks every recorded spike of GROUP in SPIKES_CSV comes from a neuron in [lo, hi) and
that at least one does. usage: neurons_in_range.py SPIKES_CSV GROUP LO HI"""
import csv
import sys

path, group, lo, hi = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
neurons = [int(r["neuron"]) for r in csv.DictReader(open(path)) if r["group"] == group]
print(f"{group}: {len(neurons)} spikes recorded, neurons {min(neurons, default=-1)}..{max(neurons, default=-1)}")
sys.exit(0 if neurons and all(lo <= n < hi for n in neurons) else 1)
