"""Parses a safetensors file with only the standard library and checks tensors' shapes.
usage: safetensors_check.py FILE NAME:D0,D1 ..."""
import json
import struct
import sys

raw = open(sys.argv[1], "rb").read()
(n,) = struct.unpack("<Q", raw[:8])
header = json.loads(raw[8:8 + n])
data = raw[8 + n:]
for spec in sys.argv[2:]:
    name, dims = spec.split(":")
    t = header[name]
    assert t["dtype"] == "F32", t
    assert t["shape"] == [int(d) for d in dims.split(",")], (name, t["shape"])
    begin, end = t["data_offsets"]
    assert end - begin == 4 * eval("*".join(dims.split(","))) and end <= len(data)
print("ok:", sorted(k for k in header if k != "__metadata__"), header.get("__metadata__"))
