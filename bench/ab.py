#!/usr/bin/env python3
"""Compares two builds of the training benchmark, interleaved, so that a change's effect is
told from the machine's drift: rounds alternate A and B (and which goes first), each running
`snnc_bench_train --case csnn|fc --repeats R`; prints JSON with every round's medians, then
per figure the median over rounds, its range and the ratio B/A.

  python3 bench/ab.py OLD/build/bin/snnc_bench_train build/bin/snnc_bench_train [--rounds 6]
"""
import argparse
import json
import statistics
import subprocess

FIGURES = ("train_step", "inference", "latency_batch1")


def run(binary, case, repeats):
    out = subprocess.run([binary, "--case", case, "--repeats", str(repeats)], check=True,
                         capture_output=True, text=True)
    c = json.loads(out.stdout)["cases"][0]
    row = {f"{case}.{k}": c[k]["median_s"] for k in FIGURES}
    row[f"{case}.peak_rss_mib"] = c.get("peak_rss_mib", 0)
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--cases", default="csnn,fc")
    args = ap.parse_args()
    runs = {"a": {}, "b": {}}
    for r in range(args.rounds):
        order = ("a", "b") if r % 2 == 0 else ("b", "a")
        for case in args.cases.split(","):
            for side in order:
                for k, v in run(getattr(args, side), case, args.repeats).items():
                    runs[side].setdefault(k, []).append(v)
    print(json.dumps({"a": args.a, "b": args.b, "rounds": runs}))
    for k in runs["a"]:
        a, b = runs["a"][k], runs["b"][k]
        ma, mb = statistics.median(a), statistics.median(b)
        print(f"{k:22s} A {ma:.4g} ({min(a):.4g}-{max(a):.4g})  B {mb:.4g} "
              f"({min(b):.4g}-{max(b):.4g})  B/A {mb / ma:.3f}")


if __name__ == "__main__":
    main()
