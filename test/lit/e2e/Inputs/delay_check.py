"""Checks traces.csv of Inputs/delays.snn: the step at which each target's v jumps."""
import csv
import sys

rows = list(csv.reader(open(sys.argv[1])))
header, data = rows[0], rows[1:]
jumps = {}
for c, name in enumerate(header[1:], 1):
    first = next((k for k, r in enumerate(data) if float(r[c]) > 0.5e-3), None)
    jumps[name] = first
spike = 100  # the presynaptic spike's step (10 ms)
now, later = jumps["Now.v[0]"], jumps["Later.v[0]"]
spread = [v for k, v in jumps.items() if k.startswith("Spread")]
assert later - now == 37, "one delay of 3.7 ms: jump %s steps after the undelayed one" % (later - now)
assert all(v is not None and now + 10 <= v <= now + 200 for v in spread), sorted(spread)[:5]
print("undelayed at step %d, delayed by %d steps, drawn delays %d..%d steps over %d distinct" %
      (now, later - now, min(spread) - now, max(spread) - now, len(set(spread))))
