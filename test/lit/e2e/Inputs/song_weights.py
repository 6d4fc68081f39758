"""Checks the final weights of examples/stdp_song2000.snn against Brian2's run of the same
model (test/reference/brian2/song2000.json): within the bounds [0, gmax], bimodal, and the
fraction above 0.9 gmax within 0.05 of Brian2's."""
import csv
import json
import sys

GMAX = 0.01
w = [float(r["w"]) / GMAX for r in csv.DictReader(open(sys.argv[1]))]
ref = json.load(open(sys.argv[2]))
assert len(w) == 1000, len(w)
assert min(w) >= 0 and max(w) <= 1, (min(w), max(w))
high = sum(x > 0.9 for x in w) / len(w)
low = sum(x < 0.1 for x in w) / len(w)
middle = sum(0.3 <= x < 0.7 for x in w) / len(w) / 4  # per tenth of the range
assert high > 2 * middle and low > 2 * middle, "not bimodal: %g low, %g middle, %g high" % (low, middle, high)
diff = high - ref["fraction_above_0.9"]
assert abs(diff) <= 0.05, "fraction above 0.9 gmax %g, Brian2 %g" % (high, ref["fraction_above_0.9"])
print("song2000 weights: bounded, bimodal; above 0.9 gmax %.3f (Brian2 %.3f)" % (high, ref["fraction_above_0.9"]))
