#!/usr/bin/env python3
"""GPU against CPU, for a machine with an NVIDIA GPU (and the CUDA toolkit): the same runs
with `--target cpu` and `--target cuda`, each timed by snnc itself (summary.json), in one
process per run. Prints one JSON object with the median, min and max over --repeats runs:

- CUBA (examples/cuba.snn, 1 s at N = 4000 and N = 40000): the simulation's run time and
  the compile time (CUDA: nvcc at run time, included in compile);
- the MNIST CSNN (examples/mnist_csnn.snn), one epoch on --limit training images: samples
  per second in training, test accuracy, wall time.

Without a GPU it says so and exits 1 (use `SNNC_CUDA_SHIM=1` only to check the script: the
shim runs the GPU code on the CPU, one thread after another, so its times mean nothing).

Usage: python3 bench/gpu.py [--snnc build/bin/snnc] [--repeats 3] [--limit 12800]
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def stats(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def cuba_file(tmp, n_total):
    text = open(os.path.join(ROOT, "examples", "cuba.snn")).read()
    text = re.sub(r"population E = \d+", f"population E = {n_total * 4 // 5}", text)
    text = re.sub(r"population Inh = \d+", f"population Inh = {n_total // 5}", text)
    text = re.sub(r"p = [0-9.]+", f"p = {80.0 / n_total:.6f}", text)
    path = os.path.join(tmp, f"cuba_{n_total}.snn")
    open(path, "w").write(text)
    return path


def run(cmd):
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"failed ({done.returncode}): {' '.join(cmd)}\n{done.stderr}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--snnc", default=os.path.join(ROOT, "build", "bin", "snnc"))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--limit", type=int, default=12800)
    args = ap.parse_args()
    if args.repeats < 1:
        sys.exit("bench/gpu.py: --repeats must be at least 1")
    if not os.environ.get("SNNC_CUDA_SHIM") and not os.path.exists("/dev/nvidiactl"):
        sys.exit("bench/gpu.py: no NVIDIA GPU on this machine (/dev/nvidiactl is missing)")
    result = {"benchmark": "gpu vs cpu", "repeats": args.repeats,
              "shim": bool(os.environ.get("SNNC_CUDA_SHIM")), "cuba": {}, "csnn": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for n in (4000, 40000):
            path = cuba_file(tmp, n)
            for target in ("cpu", "cuda"):
                runs, compiles = [], []
                for k in range(args.repeats):
                    out = os.path.join(tmp, f"cuba-{n}-{target}-{k}")
                    run([args.snnc, "run", "--target", target, path, "--out", out, "--quiet"])
                    wall = json.load(open(os.path.join(out, "summary.json")))["wall_time_s"]
                    runs.append(wall["run"])
                    compiles.append(wall["compile"])
                result["cuba"][f"N={n} {target}"] = {"run_s": stats(runs), "compile_s": stats(compiles)}
        for target in ("cpu", "cuda"):
            rates, acc, wall = [], [], []
            for k in range(args.repeats):
                out = os.path.join(tmp, f"csnn-{target}-{k}")
                run([args.snnc, "run", "--target", target, os.path.join(ROOT, "examples", "mnist_csnn.snn"),
                     "--data", os.path.join(ROOT, "data", "mnist"),
                     "--epochs", "1", "--limit", str(args.limit), "--no-compare", "--out", out,
                     "--quiet", "--no-progress"])
                epoch = json.load(open(os.path.join(out, "summary.json")))["runs"][0]["epochs"][0]
                rates.append(epoch["samples_per_s"])
                acc.append(epoch["test_accuracy"])
                wall.append(epoch["wall_time_s"])
            result["csnn"][target] = {"train_samples_per_s": stats(rates), "test_accuracy": stats(acc),
                                      "epoch_wall_s": stats(wall)}
    json.dump(result, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
