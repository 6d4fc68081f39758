#!/usr/bin/env python3
"""CUBA benchmark: JIT compile time and run time of examples/cuba.snn at N = 4000 and
N = 40000 (about 80 synapses per neuron in both), 1 s of biological time, dt = 0.1 ms.

Prints one JSON object: per size the median, min and max over --repeats runs of the
compile time (frontend + passes + LLVM O3 + JIT) and the run time (set-up + all steps,
connectivity building excluded and reported separately), the spike count, synaptic
events per second and neuron updates per second.

Usage: python3 bench/cuba.py [--snnc build/bin/snnc] [--repeats 5] [--sizes 4000,40000]
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


def variant(n_total):
    """examples/cuba.snn scaled to n_total neurons with p chosen for 80 synapses/neuron."""
    text = open(os.path.join(ROOT, "examples", "cuba.snn")).read()
    n_e, n_i = n_total * 4 // 5, n_total // 5
    p = 80.0 / n_total
    text = re.sub(r"population E = \d+", f"population E = {n_e}", text)
    text = re.sub(r"population Inh = \d+", f"population Inh = {n_i}", text)
    text = text.replace("p = 0.02", f"p = {p:g}")
    text = re.sub(r"record v\([^)]*\)", "", text)
    return text


def stats(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--snnc", default=os.path.join(ROOT, "build", "bin", "snnc"))
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--sizes", default="4000,40000")
    args = ap.parse_args()
    result = {"benchmark": "cuba", "duration_s": 1.0, "dt_s": 1e-4, "repeats": args.repeats, "cases": []}
    with tempfile.TemporaryDirectory() as tmp:
        for n in [int(s) for s in args.sizes.split(",")]:
            model = os.path.join(tmp, f"cuba_{n}.snn")
            with open(model, "w") as f:
                f.write(variant(n))
            runs = []
            for r in range(args.repeats):
                summary = os.path.join(tmp, f"summary_{n}_{r}.json")
                subprocess.run([args.snnc, "run", model, "--quiet", "--no-progress", "--out",
                                os.path.join(tmp, "out"), "--summary-json", summary], check=True)
                runs.append(json.load(open(summary)))
            run_s = [s["wall_time_s"]["run"] for s in runs]
            compile_s = [s["wall_time_s"]["compile"] for s in runs]
            build_s = [s["wall_time_s"]["build_connectivity"] for s in runs]
            spikes = runs[0]["populations"][0]["spikes"] + runs[0]["populations"][1]["spikes"]
            events = runs[0]["synaptic_events"]
            steps = runs[0]["steps"]
            med = statistics.median(run_s)
            result["cases"].append({
                "neurons": n,
                "synapses": runs[0]["synapses"],
                "spikes": spikes,
                "mean_rate_hz": spikes / n / 1.0,
                "synaptic_events": events,
                "compile_s": stats(compile_s),
                "connectivity_s": stats(build_s),
                "run_s": stats(run_s),
                "synaptic_events_per_s": events / med,
                "neuron_updates_per_s": n * steps / med,
            })
    json.dump(result, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
