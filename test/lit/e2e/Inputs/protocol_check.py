"""Checks a sample-protocol run directory: accuracy at least MIN, the weights into each
neuron of the normalised connection sum to TOTAL, weights within [0, WMAX], and the
receptive fields are a PNG. usage: protocol_check.py DIR MIN TOTAL WMAX"""
import csv
import json
import sys

out, least, total, wmax = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
summary = json.load(open(out + "/summary.json"))
p = summary["protocol"]
assert p["accuracy"] >= least, "accuracy %g below %g" % (p["accuracy"], least)
sums = {}
for r in csv.DictReader(open(out + "/synapses.csv")):
    w = float(r["w"])
    assert 0 <= w <= wmax, w
    sums[r["post"]] = sums.get(r["post"], 0.0) + w
worst = max(abs(s - total) for s in sums.values())
assert worst < 1e-9 * total, "a column sums to %g off %g" % (worst, total)
assert open(out + "/receptive_fields.png", "rb").read(8) == b"\x89PNG\r\n\x1a\n"
assert len(p["assignment"]) == len(sums)
print("learned %d, tested %d, accuracy above %g; %d columns sum to %g; fields drawn" %
      (p["learned"], p["tested"], least, len(sums), total))
