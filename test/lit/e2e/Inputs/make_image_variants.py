"""Writes image 0 of an IDX file into DIR in forms the standalone binary must read as the
same pixels: gray.png (8-bit grayscale), gray_alpha.png (the same gray with an opaque
alpha channel), plain.pgm and comment.pgm (a P5 header with comment lines); and nan.f32
(the image as float32 with one value NaN). usage: make_image_variants.py IDX DIR"""
import struct
import sys
import zlib

raw = open(sys.argv[1], "rb").read()
img = raw[16:16 + 784]
out = sys.argv[2]


def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)


def png(path, colour, channels, pixel):
    rows = b"".join(b"\x00" + bytes(pixel(y * 28 + x, c) for x in range(28)
                                     for c in range(channels)) for y in range(28))
    data = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 28, 28, 8, colour, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
    open(path, "wb").write(data)


png(f"{out}/gray.png", 0, 1, lambda i, c: img[i])
png(f"{out}/gray_alpha.png", 4, 2, lambda i, c: 255 if c else img[i])
open(f"{out}/plain.pgm", "wb").write(b"P5\n28 28\n255\n" + img)
open(f"{out}/comment.pgm", "wb").write(b"P5\n# written by a scanner\n28 # width\n28\n# depth\n255\n" + img)
values = [v / 255 for v in img]
values[100] = float("nan")
open(f"{out}/nan.f32", "wb").write(struct.pack("<784f", *values))
