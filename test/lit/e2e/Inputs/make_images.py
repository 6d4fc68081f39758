"""Writes image 0 of an IDX file as d0.png (8-bit grayscale, filter 0 and 2 rows), d0.pgm
and d0.f32 into DIR. usage: make_images.py IDX DIR"""
import struct
import sys
import zlib

raw = open(sys.argv[1], "rb").read()
img = raw[16:16 + 784]
out = sys.argv[2]


def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)


rows = b""
for y in range(28):
    line = img[y * 28:(y + 1) * 28]
    if y % 2:  # "up" filter on odd rows, to exercise unfiltering
        prev = img[(y - 1) * 28:y * 28]
        rows += b"\x02" + bytes((a - b) & 0xFF for a, b in zip(line, prev))
    else:
        rows += b"\x00" + line
png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 28, 28, 8, 0, 0, 0, 0)) +
       chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
open(f"{out}/d0.png", "wb").write(png)
open(f"{out}/d0.pgm", "wb").write(b"P5\n28 28\n255\n" + img)
open(f"{out}/d0.f32", "wb").write(struct.pack("<784f", *[v / 255 for v in img]))
