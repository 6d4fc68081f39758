#!/usr/bin/env python3
"""Plasticity benchmarks against Brian2 in the same run (when Debian's python3-brian is
installed):

- song2000: examples/stdp_song2000.snn (1000 Poisson inputs, additive STDP, 100 s at dt
  0.1 ms): snnc's run time against Brian2 C++ standalone's (test/reference/brian2/
  song2000.py, compile excluded and reported), and the fraction of weights above 0.9 gmax
  of each;
- diehl_cook: examples/diehl_cook.snn learning from MNIST, seconds per training image
  (snnc over --images images; Brian2's runtime mode, bench/brian2_diehl_cook.py, over
  --brian-images images).

Prints one JSON object with medians and ranges over --repeats runs and the ratios.
Usage: python3 bench/plasticity.py [--snnc build/bin/snnc] [--repeats 3] [--images 200]
       [--brian-images 20] [--cases song2000,diehl_cook] [--no-brian]
"""
import argparse
import csv
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEBIAN_PYTHON = "/usr/bin/python3"


def stats(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def has_brian():
    return subprocess.run([DEBIAN_PYTHON, "-c", "import brian2"], capture_output=True).returncode == 0


def run_snnc(snnc, model, tmp, tag):
    summary = os.path.join(tmp, f"summary_{tag}.json")
    out = os.path.join(tmp, f"out_{tag}")
    subprocess.run([snnc, "run", model, "--quiet", "--no-progress", "--out", out, "--summary-json",
                    summary], check=True)
    return json.load(open(summary)), out


def song(args, tmp, brian):
    model = os.path.join(ROOT, "examples", "stdp_song2000.snn")
    runs, fractions = [], []
    for r in range(args.repeats):
        s, out = run_snnc(args.snnc, model, tmp, f"song{r}")
        runs.append(s["wall_time_s"]["run"])
        w = [float(x["w"]) / 0.01 for x in csv.DictReader(open(os.path.join(out, "synapses.csv")))]
        fractions.append(sum(v > 0.9 for v in w) / len(w))
    case = {"case": "song2000", "snnc_run_s": stats(runs), "snnc_fraction_above_0.9": fractions[0]}
    if brian:
        script = os.path.join(ROOT, "test", "reference", "brian2", "song2000.py")
        b = [json.loads(subprocess.run([DEBIAN_PYTHON, script], capture_output=True, text=True,
                                       check=True).stdout) for _ in range(args.brian_repeats)]
        case["brian2_run_s"] = stats([x["run_s"] for x in b])
        case["brian2_wall_s"] = stats([x["wall_s"] for x in b])
        case["brian2_fraction_above_0.9"] = b[0]["fraction_above_0.9"]
        case["speedup_run"] = case["brian2_run_s"]["median"] / case["snnc_run_s"]["median"]
    return case


def diehl_cook(args, tmp, brian):
    text = open(os.path.join(ROOT, "examples", "diehl_cook.snn")).read()
    text = re.sub(r"learn\(images = \d+", f"learn(images = {args.images}", text)
    text = re.sub(r"\n  classify\([^)]*\)", "", text)
    text = text.replace('mnist("data/mnist")', 'mnist("%s")' % os.path.join(ROOT, "data", "mnist"))
    model = os.path.join(tmp, "diehl_cook.snn")
    open(model, "w").write(text)
    per_image = []
    for r in range(args.repeats):
        s, _ = run_snnc(args.snnc, model, tmp, f"dc{r}")
        per_image.append(s["protocol"]["seconds_per_learned_sample"])
    case = {"case": "diehl_cook", "neurons": 400, "images": args.images,
            "snnc_seconds_per_image": stats(per_image)}
    if brian:
        script = os.path.join(ROOT, "bench", "brian2_diehl_cook.py")
        b = json.loads(subprocess.run(
            [DEBIAN_PYTHON, script, "--data", os.path.join(ROOT, "data", "mnist"), "--images",
             str(args.brian_images)], capture_output=True, text=True, check=True).stdout)
        case["brian2"] = b
        case["speedup"] = b["seconds_per_image"] / case["snnc_seconds_per_image"]["median"]
    return case


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--snnc", default=os.path.join(ROOT, "build", "bin", "snnc"))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--brian-repeats", type=int, default=1)
    ap.add_argument("--images", type=int, default=200)
    ap.add_argument("--brian-images", type=int, default=20)
    ap.add_argument("--cases", default="song2000,diehl_cook")
    ap.add_argument("--no-brian", action="store_true")
    args = ap.parse_args()
    brian = not args.no_brian and has_brian()
    if not brian and not args.no_brian:
        print("bench/plasticity.py: Brian2 (python3-brian) not found; snnc only", file=sys.stderr)
    result = {"benchmark": "plasticity", "brian2": brian, "cases": []}
    with tempfile.TemporaryDirectory() as tmp:
        for case in args.cases.split(","):
            result["cases"].append({"song2000": song, "diehl_cook": diehl_cook}[case](args, tmp, brian))
    json.dump(result, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
