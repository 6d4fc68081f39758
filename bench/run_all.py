#!/usr/bin/env python3
"""Runs every benchmark of snnc and prints one table (Markdown) plus the raw JSON.

  python3 bench/run_all.py [--repeats 5] [--quick] [--json out.json]
  python3 bench/run_all.py --from-json out.json   # the table of a saved run again

Cases: the MNIST CSNN of examples/mnist_csnn.snn (12C5-MP2-64C5-MP2-FC10) and the FC
784-1000-10 SNN of examples/mnist_fc.snn at T = 25, batch 128,
12 % random input spikes (training step, inference, batch-1 latency, peak RSS of a
training process), the dense path's GFLOP/s against the machine's sgemm, how training
time and memory grow with T (whole sequence, and in segments of 25 steps:
--segment-steps) and with the batch size, and CUBA at N = 4000 and 40000.
Each case runs in its own process, so peak RSS is that case's. Reference figures: snnTorch
0.9.4 on PyTorch 1.13 with OpenBLAS, 2 threads, and Brian2 2.5.1 C++ standalone, 1 thread,
measured on the same kind of 2-core machine; targets: the speed and memory snnc aims at on
such a machine (docs/performance.md).
"""
import argparse
import contextlib
import io
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "build", "bin", "snnc_bench_train")

REFERENCE = {
    "csnn_train": 1.41, "csnn_infer": 0.63, "csnn_latency": 0.056, "fc_train": 0.25,
    "fc_infer": 0.11, "csnn_rss": 664, "cuba_4000": 0.187, "cuba_40000": 1.54,
}
TARGET = {
    "csnn_train": 0.14, "csnn_infer": 0.02, "csnn_latency": 0.001, "fc_train": 0.025,
    "fc_infer": 0.01, "csnn_rss": 200, "cuba_4000": 0.06, "cuba_40000": 0.5,
}


def run_bench(*args):
    out = subprocess.run([BENCH, *map(str, args)], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def case(name, repeats, **kw):
    args = ["--case", name, "--repeats", repeats]
    for k, v in kw.items():
        args += [f"--{k.replace('_', '-')}"] + ([] if v is True else [v])
    return run_bench(*args)["cases"][0]


def fmt_s(s):
    if s < 0.01:
        return f"{s * 1e3:.2f} ms"
    return f"{s * 1e3:.1f} ms" if s < 1 else f"{s:.2f} s"


def stat(d):
    return f"{fmt_s(d['median_s'])} ({fmt_s(d['min_s'])}–{fmt_s(d['max_s'])})"


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="fewer scaling points, 2 repeats")
    ap.add_argument("--json", help="also write all results to this file")
    ap.add_argument("--from-json", metavar="FILE",
                    help="print the table of results saved by --json instead of measuring")
    a = ap.parse_args()
    if a.from_json:
        if a.json:
            sys.exit("run_all: --from-json prints saved results; --json saves a new run's")
        try:
            with open(a.from_json) as f:
                res = json.load(f)
        except (OSError, ValueError) as e:
            sys.exit(f"run_all: {a.from_json}: {e}")
        table = io.StringIO()  # (printed whole, or not at all)
        try:
            with contextlib.redirect_stdout(table):
                print_table(res)
        except (KeyError, TypeError, IndexError, ZeroDivisionError) as e:
            sys.exit(f"run_all: {a.from_json}: not the results of run_all.py --json "
                     f"({type(e).__name__}: {e})")
        print(table.getvalue(), end="")
        return
    if not os.path.exists(BENCH):
        sys.exit(f"run_all: {BENCH} not found; build first (bash scripts/build.sh)")
    r = a.repeats if not a.quick else 2
    machine = run_bench("--sgemm", "--event-rate", "--case", "none", "--repeats", r)
    res = {"sgemm": machine["sgemm"], "event_sum": machine["event_sum"]}
    print("sgemm ...", file=sys.stderr)
    res["csnn"] = case("csnn", r)
    res["fc"] = case("fc", r)
    res["csnn_micro"] = case("csnn", r, micro_batch=32, train_only=True)
    res["csnn_dense"] = case("csnn", r, synapse="dense")
    res["fc_dense"] = case("fc", r, synapse="dense")
    steps = [25, 50] if a.quick else [25, 50, 100, 200]
    batches = [32, 128] if a.quick else [32, 64, 128, 256]
    print("scaling ...", file=sys.stderr)
    res["csnn_T"] = [case("csnn", max(1, r // 2), T=t, train_only=True) for t in steps]
    # training over time segments of 25 steps (--segment-steps 25): memory against T
    res["csnn_T_segments"] = [case("csnn", max(1, r // 2), T=t, train_only=True, segment_steps=25)
                              for t in steps if t > 25]
    res["csnn_batch"] = [case("csnn", max(1, r // 2), batch=b, train_only=True) for b in batches]
    print("cuba ...", file=sys.stderr)
    cuba = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "cuba.py"), "--repeats",
                           str(r)], check=True, capture_output=True, text=True)
    res["cuba"] = json.loads(cuba.stdout)
    print_table(res)
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(res, fh, indent=2)


def print_table(res):
    """The Markdown table and the summary lines of one run's results."""
    c, f = res["csnn"], res["fc"]
    rows = [
        ("MNIST CSNN, T=25, training step, batch 128", "csnn_train", c["train_step"]),
        ("MNIST CSNN, inference, batch 128", "csnn_infer", c["inference"]),
        ("MNIST CSNN, batch-1 latency", "csnn_latency", c["latency_batch1"]),
        ("FC 784-1000-10, T=25, training step, batch 128", "fc_train", f["train_step"]),
        ("FC 784-1000-10, inference, batch 128", "fc_infer", f["inference"]),
    ]
    print("| case | snnc: median (min–max) | reference | speed-up | target | met |")
    print("|---|---|---|---|---|---|")
    for label, key, d in rows:
        m = d["median_s"]
        print(f"| {label} | {stat(d)} | {fmt_s(REFERENCE[key])} | {REFERENCE[key] / m:.1f}× | "
              f"≤ {fmt_s(TARGET[key])} | {'yes' if m <= TARGET[key] else 'no'} |")
    rss = c["peak_rss_mib_after_training"]
    print(f"| CSNN training peak memory (process RSS) | {rss:.0f} MiB (buffers "
          f"{c['train_buffers_mib']:.0f} MiB) | {REFERENCE['csnn_rss']} MiB | "
          f"{REFERENCE['csnn_rss'] / rss:.1f}× less | ≤ {TARGET['csnn_rss']} MiB | "
          f"{'yes' if rss <= TARGET['csnn_rss'] else 'no'} |")
    mc = res["csnn_micro"]
    mrss = mc["peak_rss_mib_after_training"]
    print(f"| … the same step in micro-batches of 32 (--micro-batch 32) | {stat(mc['train_step'])}, "
          f"{mrss:.0f} MiB RSS | {REFERENCE['csnn_rss']} MiB | {REFERENCE['csnn_rss'] / mrss:.1f}× "
          f"less | ≤ {TARGET['csnn_rss']} MiB | {'yes' if mrss <= TARGET['csnn_rss'] else 'no'} |")
    for size in res["cuba"].get("cases", []):
        n = size["neurons"]
        key = f"cuba_{n}"
        if key not in REFERENCE:
            continue
        run = size["run_s"]["median"]
        comp = size["compile_s"]["median"]
        print(f"| CUBA N={n}, 1 s | {fmt_s(run)} (+ {fmt_s(comp)} JIT) | {fmt_s(REFERENCE[key])} | "
              f"{REFERENCE[key] / run:.1f}× | ≤ {fmt_s(TARGET[key])} | "
              f"{'yes' if run <= TARGET[key] else 'no'} |")
    peak = res["sgemm"]["gflops"]
    print()
    print(f"sgemm peak of this machine ({res['sgemm']['threads']} threads, n = 2048): "
          f"{peak:.0f} GFLOP/s (OpenBLAS kernels: {res['sgemm'].get('blas_core', 'not recorded')})")
    for name in ("csnn_dense", "fc_dense"):
        d = res[name]
        g = d["inference_effective_gflops"]
        print(f"{d['network']} inference, every layer dense: {g:.0f} GFLOP/s = "
              f"{100 * g / peak:.0f} % of sgemm peak ({fmt_s(d['inference']['median_s'])})")
    for name in ("csnn", "fc"):
        d = res[name]
        dens = {k: v["input_density_last"] for k, v in d["profile_all_runs"].items()
                if "input_density_last" in v and v.get("event_passes", 0)}
        if dens:
            print(f"{d['network']} event-driven layers (input density): " +
                  ", ".join(f"{k} {v:.3f}" for k, v in dens.items()))
    # a floor for the event-driven linear layers: their row additions at the rate the
    # event-sum kernel reaches on rows in L2 with every thread busy (the fastest place the
    # rows can come from: the FC hidden layer's weights, 3 MiB, and its gradient rows do not
    # fit there); training adds the weight gradient's pass
    rate = res["event_sum"]["adds_per_s"]
    print(f"event-sum kernel ({res['event_sum']['threads']} threads, rows in L2): "
          f"{rate / 1e9:.1f} G float additions/s = {res['event_sum']['bytes_per_s'] / 1e9:.0f} GB/s")
    for name in ("csnn", "fc"):
        d = res[name]
        layers = [v for v in d["profile_all_runs"].values()
                  if v.get("event_passes", 0) and "event_adds_per_pass" in v]
        adds = sum(v["event_adds_per_pass"] for v in layers)
        if not adds:
            continue
        # pattern tables (LinearPatterns.h) add fewer rows: one per group of 4 inputs with a
        # spike forward, one per group of 4 rows with a spike for the weight gradient (the
        # tables' own building not counted)
        forward = sum(v.get("table_adds_forward", v["event_adds_per_pass"]) for v in layers)
        weight_grad = sum(v.get("table_adds_weight_grad", v["event_adds_per_pass"])
                          for v in layers)
        tables = any("table_adds_forward" in v or "table_adds_weight_grad" in v for v in layers)
        rows = (f"; as pattern-table rows {forward / 1e6:.0f} M forward and "
                f"{weight_grad / 1e6:.0f} M for the weight gradient" if tables else "")
        print(f"{d['network']}: event-driven linear layers add {adds / 1e6:.0f} M floats per "
              f"pass as weight rows{rows}: at least {fmt_s(forward / rate)} per inference and "
              f"{fmt_s((forward + weight_grad) / rate)} per training step at that rate")
    print()
    print("| CSNN training step | time | train buffers | peak RSS |")
    print("|---|---|---|---|")
    for d in res["csnn_T"] + res["csnn_T_segments"] + res["csnn_batch"]:
        seg = f", segments of {d['segment_steps']}" if d.get("segment_steps") else ""
        print(f"| T = {d['T']}, batch {d['batch']}{seg} | {stat(d['train_step'])} | "
              f"{d['train_buffers_mib']:.0f} MiB | {d['peak_rss_mib_after_training']:.0f} MiB |")
    print("(peak RSS includes the benchmark's own float input tensor, T x batch x 784 x 4 bytes: "
          "9.6 MiB per 25 steps at batch 128)")


if __name__ == "__main__":
    main()
