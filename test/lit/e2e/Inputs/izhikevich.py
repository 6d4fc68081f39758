"""Izhikevich modes: fast spiking fires faster than regular spiking, and regular spiking
adapts (its last interspike interval is longer than its first).
usage: izhikevich.py SPIKES_CSV"""
import csv
import sys

t = {"RS": [], "FS": []}
for r in csv.DictReader(open(sys.argv[1])):
    t[r["group"]].append(float(r["time_s"]))
rs, fs = t["RS"], t["FS"]
print(f"RS {len(rs)} spikes, FS {len(fs)} spikes")
assert rs and fs and rs[0] >= 0.05 and fs[0] >= 0.05, "no spike may precede the 50 ms step onset"
assert len(fs) > 2 * len(rs), "FS should fire much faster than RS"
isi = [b - a for a, b in zip(rs, rs[1:])]
print(f"RS first ISI {1e3 * isi[0]:.2f} ms, last ISI {1e3 * isi[-1]:.2f} ms")
assert isi[-1] > 1.5 * isi[0], "RS should adapt"
