#!/usr/bin/env python3
"""Writes the binary seed inputs of the fuzz targets (test/fuzz/corpus/{idx,safetensors,image}):
tiny valid IDX (raw and gzip), safetensors, PNG (grey, RGB, RGBA, every filter type) and PGM
files, and inputs that once made a reader fail (regressions). Deterministic; run from anywhere, it rewrites the files in place."""
import gzip
import json
import os
import struct
import zlib

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def write(target, name, data):
    os.makedirs(os.path.join(HERE, target), exist_ok=True)
    with open(os.path.join(HERE, target, name), "wb") as f:
        f.write(data)


def idx(dims, payload):
    return bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + payload


def safetensors(tensors, metadata=None):
    header, blob = {}, b""
    if metadata:
        header["__metadata__"] = metadata
    for name, shape, values in tensors:
        data = struct.pack("<%df" % len(values), *values)
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [len(blob), len(blob) + len(data)]}
        blob += data
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + blob


def chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png(width, height, colour, channels, filters):
    rows = b""
    for y in range(height):
        rows += bytes([filters[y % len(filters)]])
        rows += bytes((x * 37 + y * 11 + c * 5) & 0xFF for x in range(width) for c in range(channels))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows)) +
            chunk(b"IEND", b""))


def main():
    images = idx([3, 2, 2], bytes(range(12)))
    write("idx", "images-3x2x2.idx", images)
    write("idx", "labels-4.idx", idx([4], bytes([0, 1, 2, 9])))
    write("idx", "images-3x2x2.idx.gz", gzip.compress(images, mtime=0))

    write("safetensors", "two-tensors.safetensors",
          safetensors([("w", [2, 3], [0.5 * i for i in range(6)]), ("b", [3], [1.0, -2.0, 3.0])]))
    write("safetensors", "metadata.safetensors",
          safetensors([("x", [1], [4.0])], {"format": "pt", "epoch": "1"}))
    write("safetensors", "empty-tensor.safetensors", safetensors([("e", [0, 4], [])]))

    write("image", "grey-4x3.png", png(4, 3, 0, 1, [0, 1, 2]))
    write("image", "rgb-3x3.png", png(3, 3, 2, 3, [3, 4, 0]))
    write("image", "rgba-2x2.png", png(2, 2, 6, 4, [4, 1]))
    write("image", "grey-alpha-2x2.png", png(2, 2, 4, 2, [2]))
    # regression: width times height overflowed a signed 64-bit product
    write("image", "huge-dimensions.png", b"\x89PNG\r\n\x1a\n" +
          chunk(b"IHDR", struct.pack(">IIBBBBB", 0xE0FFFFFD, 0xFFFFFFF6, 8, 4, 0, 0, 0)) +
          chunk(b"IEND", b""))
    write("image", "grey-4x2.pgm", b"P5\n4 2\n255\n" + bytes(range(0, 256, 32)))
    write("image", "grey-3x1-max15.pgm", b"P5 3 1 15 " + bytes([0, 7, 15]))


if __name__ == "__main__":
    main()
