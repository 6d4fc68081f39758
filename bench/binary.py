#!/usr/bin/env python3
"""Standalone-binary benchmark: builds the MNIST CSNN (examples/mnist_csnn.snn) from a
checkpoint with `snnc build` and reports the binary's size, its cold start to the first
prediction (one PGM image: process start, weights, one inference), its batch-1 latency
(--batch 1, 200 images) and its throughput on the MNIST test set (batches of 128). Prints
JSON with median, min and max over --repeats runs.

usage: python3 bench/binary.py --weights CKPT.safetensors [--snnc build/bin/snnc] [--repeats 5]
       (a checkpoint from `snnc run examples/mnist_csnn.snn --epochs 1 --out out/csnn`)
"""
import argparse
import json
import os
import statistics
import struct
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def stats(v):
    return {"median": statistics.median(v), "min": min(v), "max": max(v)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--snnc", default=os.path.join(ROOT, "build", "bin", "snnc"))
    ap.add_argument("--data", default=os.path.join(ROOT, "data", "mnist"))
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        exe = os.path.join(tmp, "csnn")
        subprocess.run([args.snnc, "build", os.path.join(ROOT, "examples", "mnist_csnn.snn"), "--weights",
                        args.weights, "-o", exe], check=True, stdout=subprocess.DEVNULL)
        images = os.path.join(args.data, "t10k-images-idx3-ubyte")
        labels = os.path.join(args.data, "t10k-labels-idx1-ubyte")
        raw = open(images, "rb").read()
        pgm = os.path.join(tmp, "digit.pgm")
        with open(pgm, "wb") as f:  # the first test image as a PGM
            f.write(b"P5\n28 28\n255\n" + raw[16:16 + 784])
        cold = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            subprocess.run([exe, pgm], check=True, stdout=subprocess.DEVNULL)
            cold.append(time.perf_counter() - t0)
        per_image, accuracy = [], None
        for _ in range(args.repeats):
            out = subprocess.run([exe, "--json", "--limit", "1000", "--labels", labels, images], check=True,
                                 capture_output=True, text=True).stdout
            j = json.loads(out)
            per_image.append(j["seconds"] / 1000)
            accuracy = j["accuracy"]
        latency = []  # one image per forward pass (the process start is not counted)
        for _ in range(args.repeats):
            out = subprocess.run([exe, "--json", "--batch", "1", "--limit", "200", images], check=True,
                                 capture_output=True, text=True).stdout
            latency.append(json.loads(out)["seconds"] / 200)
        result = {"benchmark": "standalone binary (MNIST CSNN)", "size_bytes": os.path.getsize(exe),
                  "cold_start_to_first_prediction_s": stats(cold),
                  "seconds_per_image_batched": stats(per_image),
                  "latency_batch1_s": stats(latency),
                  "accuracy_first_1000": accuracy, "repeats": args.repeats}
    json.dump(result, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
