"""Checks that a weight tensor of a safetensors checkpoint has the expected fraction of
exact zeros (a sparse layer's absent connections).

usage: sparse_check.py FILE TENSOR FRACTION TOLERANCE
"""
import json
import struct
import sys

path, name, want, tol = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
raw = open(path, "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
header = json.loads(raw[8:8 + n])
t = header[name]
begin, end = t["data_offsets"]
values = struct.unpack(f"<{(end - begin) // 4}f", raw[8 + n + begin:8 + n + end])
zeros = sum(1 for v in values if v == 0.0) / len(values)
print(f"{name}: {zeros:.4f} of {len(values)} weights are zero, expected {want} ± {tol}")
sys.exit(0 if abs(zeros - want) <= tol else 1)
