"""Checks a population's mean rate (Hz) in a summary JSON lies in [lo, hi].
usage: mean_rate.py SUMMARY_JSON GROUP LO HI"""
import json
import sys

summary, group, lo, hi = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
s = json.load(open(summary))
rate = {p["name"]: p["rate_hz"] for p in s["populations"]}[group]
print(f"{group}: {rate:.3f} Hz, expected [{lo}, {hi}]")
sys.exit(0 if lo <= rate <= hi else 1)
