"""Writes a small synthetic, learnable MNIST-shaped data set in IDX format into DIR:
class k (0-9) is a bright horizontal bar at rows 2k+3..2k+5 plus uniform noise.
The test images are SIDE x SIDE when TEST_SIDE is given (28 otherwise).
usage: make_idx.py DIR TRAIN_COUNT TEST_COUNT [gz|raw] [TEST_SIDE]"""
import gzip
import os
import random
import struct
import sys

out, n_train, n_test = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
compress = len(sys.argv) > 4 and sys.argv[4] == "gz"
test_side = int(sys.argv[5]) if len(sys.argv) > 5 else 28
os.makedirs(out, exist_ok=True)
rng = random.Random(7)


def write(name, header, payload):
    data = header + payload
    if compress:
        with gzip.open(os.path.join(out, name + ".gz"), "wb") as f:
            f.write(data)
    else:
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


def split(prefix, count, side=28):
    images, labels = bytearray(), bytearray()
    for _ in range(count):
        k = rng.randrange(10)
        labels.append(k)
        for row in range(side):
            for col in range(side):
                bar = 2 * k + 3 <= row <= 2 * k + 5 and 4 <= col <= 23
                images.append(rng.randrange(200, 256) if bar else rng.randrange(0, 40))
    write(f"{prefix}-images-idx3-ubyte", struct.pack(">IIII", 0x803, count, side, side), bytes(images))
    write(f"{prefix}-labels-idx1-ubyte", struct.pack(">II", 0x801, count), bytes(labels))


split("train", n_train)
split("t10k", n_test, test_side)
