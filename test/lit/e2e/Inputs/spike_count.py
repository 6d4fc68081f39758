"""Checks the spike count of one group in a summary JSON lies in [lo, hi].
usage: spike_count.py SUMMARY_JSON GROUP LO HI"""
import json
import sys

summary, group, lo, hi = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
s = json.load(open(summary))
count = {p["name"]: p["spikes"] for p in s["populations"] + s["poisson_sources"]}[group]
print(f"{group}: {count} spikes, expected [{lo}, {hi}]")
sys.exit(0 if lo <= count <= hi else 1)
