#!/usr/bin/env python3
"""Runs snnc on a set of bad inputs and classifies each outcome.

Every case writes a small input (a .snn file, a data set, an image) into a temporary
directory and runs snnc (or a standalone binary snnc built) on it. The outcome is

  clear   exit 1 with a message that says `error:`
  crash   killed by a signal (segfault, abort, out-of-memory kill)
  silent  exit 0: the bad input was accepted without a word
  hang    still running after the time limit
  unclear exit 1, but the message is a bare library one (std::bad_alloc, a range check,
          a JSON parser's exception text)
  other   any other exit status, or exit 1 without an error message
  correct a valid input in an unusual form gave the same output as its plain form
  wrong   ... or not

Every command runs with its address space limited (--memory-gib, default 8), so running
out of memory shows as the program's own message (or a crash), not as the machine's.

Prints the counts as one JSON object (with --verbose, every case and its outcome too).

usage: scripts/probe_bad_inputs.py [--snnc PATH] [--timeout S] [--memory-gib G]
                                   [--only SUBSTRING] [--verbose]
"""
import argparse
import json
import os
import resource
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

LIF = """neuron LIF(tau_m: ms = 10ms, v_th: mV = -50mV, v_reset: mV = -65mV, C: pF = 250pF) {
  input I: nA
  state v: mV = v_reset
  dv/dt = (v_reset - v) / tau_m + I / C
  spike when v > v_th
  reset { v = v_reset }
}
"""


def sim(network, dt="0.1ms", duration="100ms", records="record spikes(a)"):
    return (LIF + network + "\nsimulation s {\n  network = N\n  dt = " + dt +
            "\n  duration = " + duration + "\n  " + records + "\n}\n")


DRIVEN = """network N {
  population a = 10 of LIF(%s)
  source drive = current(amplitude = %s)
  connect drive -> a
}
"""


def driven(params="", amplitude="1nA", **kw):
    return sim(DRIVEN % (params, amplitude), **kw)


def many_states(n):
    lines = ["neuron Big(tau: ms = 10ms) {"]
    lines += [f"  state v{i}: mV = 0" for i in range(n)]
    lines += [f"  dv{i}/dt = -v{i} / tau" for i in range(n)]
    lines += ["}", "network N {", "  population p = 1 of Big", "}",
              "simulation s {", "  network = N", "  dt = 0.1ms", "  duration = 1ms", "}"]
    return "\n".join(lines) + "\n"


def deep_expr(n):
    return driven(amplitude="(" * n + "1nA" + ")" * n)


TRAIN = """neuron Leaky(beta: real = 0.9) {
  state mem: real = 0
  update { mem = beta * mem + I - spiked }
  spike when mem > 1 surrogate arctan(alpha = 2)
}
neuron ReLU { output = max(I, 0) }
network Net(cell: neuron = Leaky) {
  input x: [%s]
  h = x |> linear(16) |> cell
  output y = h |> linear(10) |> cell
}
%s
experiment e {
  data = mnist("unused")
  encode = rate(steps = 4)
  model = Net
  compare = Net(cell = ReLU)
  loss = mse_count(correct = 0.8, incorrect = 0.2)
  optim = adam(lr = 5e-3)
  train(epochs = 1, batch = 8)
}
"""


def idx_images(path, count, side):
    with open(path, "wb") as f:
        f.write(struct.pack(">IIII", 0x803, count, side, side))
        f.write(bytes((i * 7) % 256 for i in range(count * side * side)))


def idx_labels(path, count):
    with open(path, "wb") as f:
        f.write(struct.pack(">II", 0x801, count))
        f.write(bytes(i % 10 for i in range(count)))


def mnist_dir(d, side=28):
    os.makedirs(d, exist_ok=True)
    idx_images(f"{d}/train-images-idx3-ubyte", 32, side)
    idx_labels(f"{d}/train-labels-idx1-ubyte", 32)
    idx_images(f"{d}/t10k-images-idx3-ubyte", 16, side)
    idx_labels(f"{d}/t10k-labels-idx1-ubyte", 16)
    return d


def png(path, w, h, colour, channels, pixel):
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))

    rows = b"".join(b"\x00" + bytes(pixel(x, y, c) for x in range(w) for c in range(channels))
                    for y in range(h))
    data = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, colour, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
    open(path, "wb").write(data)


def safetensors(path, header):
    open(path, "wb").write(struct.pack("<Q", len(header)) + header)


# (name, category, files {relative path: text or callable(dir)}, command after 'snnc' or
# ['@binary', ...] for the standalone binary, expected outcome)
def cases():
    out = []

    def add(name, category, files, args, reference=None):
        out.append((name, category, files, args, reference))

    add("states-3000", "scale", {"m.snn": many_states(3000)}, ["check", "m.snn"])
    add("states-100000", "scale", {"m.snn": many_states(100000)}, ["run", "m.snn", "--out", "o"])
    add("deep-parens", "scale", {"m.snn": deep_expr(20000)}, ["check", "m.snn"])
    add("dt-1e-300", "time", {"m.snn": driven(dt="1e-300s")}, ["run", "m.snn", "--out", "o"])
    add("dt-above-duration", "time", {"m.snn": driven(dt="10ms", duration="1ms")},
        ["run", "m.snn", "--out", "o"])
    add("set-dt-tiny", "time", {"m.snn": driven()},
        ["run", "m.snn", "--out", "o", "--set", "s.dt=1e-300s"])
    add("negative-capacitance", "values", {"m.snn": driven(params="C = -250pF")},
        ["run", "m.snn", "--out", "o"])
    add("negative-tau", "values", {"m.snn": driven(params="tau_m = -10ms")},
        ["run", "m.snn", "--out", "o"])
    add("zero-tau", "values", {"m.snn": driven(params="tau_m = 0ms")},
        ["run", "m.snn", "--out", "o"])
    add("set-negative-tau", "values", {"m.snn": driven()},
        ["run", "m.snn", "--out", "o", "--set", "a.tau_m=-10ms"])
    add("check-negative-tau", "check-vs-run", {"m.snn": driven(params="tau_m = -10ms")},
        ["check", "m.snn"])
    add("check-nan-weight", "check-vs-run",
        {"m.snn": sim("network N {\n  population a = 10 of LIF\n"
                      "  connect a -> a (p = 0.5, w = 0mV / 0, target = v)\n}\n")},
        ["check", "m.snn"])
    add("check-dt-above-duration", "check-vs-run", {"m.snn": driven(dt="10ms", duration="1ms")},
        ["check", "m.snn"])
    add("nan-weight", "values",
        {"m.snn": sim("network N {\n  population a = 10 of LIF\n"
                      "  connect a -> a (p = 0.5, w = 0mV / 0, target = v)\n}\n")},
        ["run", "m.snn", "--out", "o"])
    add("nan-parameter", "values", {"m.snn": driven(params="tau_m = 0ms / 0")},
        ["run", "m.snn", "--out", "o"])
    add("nan-amplitude", "values", {"m.snn": driven(amplitude="0nA / 0")},
        ["run", "m.snn", "--out", "o"])
    add("inf-parameter", "values", {"m.snn": driven(params="v_th = 1mV / 0")},
        ["run", "m.snn", "--out", "o"])
    add("poisson-time-rate", "check-vs-run",
        {"m.snn": sim("network N {\n  population a = 10 of LIF\n"
                      "  source noise = poisson(rate = 5Hz * t / 1s)\n"
                      "  connect noise -> a (p = 0.5, w = 1mV, target = v)\n}\n")},
        ["check", "m.snn"])
    add("one-to-one-sizes", "check-vs-run",
        {"m.snn": sim("network N {\n  population a = 10 of LIF\n  population b = 20 of LIF\n"
                      "  connect a -> b (one_to_one, w = 1mV, target = v)\n}\n")},
        ["check", "m.snn"])
    add("no-autapses-two-groups", "ignored",
        {"m.snn": sim("network N {\n  population a = 10 of LIF\n  population b = 10 of LIF\n"
                      "  connect a -> b (p = 0.5, no_autapses, w = 1mV, target = v)\n}\n")},
        ["check", "m.snn"])
    add("population-in-trained-file", "ignored",
        {"m.snn": TRAIN % ("784", "network Pops {\n  population p = 10 of Leaky\n  input x: [4]\n"
                           "  output y = x |> linear(10) |> Leaky\n}\n")},
        ["check", "m.snn"])
    add("input-shape-vs-data", "check-vs-run",
        {"m.snn": TRAIN % ("100", "")}, ["check", "m.snn"])
    add("spike-record-memory", "memory",
        {"m.snn": sim("network N {\n  population a = 100000 of LIF(v_th = -80mV)\n}\n",
                      dt="0.1ms", duration="1000s")},
        ["run", "m.snn", "--out", "o"])
    add("data-dir-is-file", "messages", {"m.snn": TRAIN % ("784", ""), "data": "not a dir"},
        ["run", "m.snn", "--data", "data", "--out", "o"])
    add("weights-json-garbage", "messages",
        {"m.snn": TRAIN % ("784", ""),
         "w.safetensors": lambda d: safetensors(d, b"{oops")},
        ["build", "m.snn", "--weights", "w.safetensors", "-o", "bin"])
    add("weights-json-not-object", "messages",
        {"m.snn": TRAIN % ("784", ""),
         "w.safetensors": lambda d: safetensors(d, b"[]")},
        ["build", "m.snn", "--weights", "w.safetensors", "-o", "bin"])
    add("weights-json-wrong-types", "messages",
        {"m.snn": TRAIN % ("784", ""),
         "w.safetensors": lambda d: safetensors(d, b'{"a": {"dtype": 3, "shape": 1, "offsets": 2}}')},
        ["build", "m.snn", "--weights", "w.safetensors", "-o", "bin"])
    # the standalone binary (built once from a trained model, if that works)
    add("binary-dev-zero-f32", "binary", {"zero.f32": "@link:/dev/zero"}, ["@binary", "zero.f32"])
    add("binary-fifo-f32", "binary", {"in.f32": "@fifo"}, ["@binary", "in.f32"])
    add("binary-nan-f32", "binary",
        {"n.f32": lambda d: open(d, "wb").write(struct.pack("<784f", *([float("nan")] * 784)))},
        ["@binary", "n.f32"])
    # valid inputs: the same predictions and counts as the plain form of the same image
    pixels = bytes((x * 9 + y * 5) % 256 for y in range(28) for x in range(28))
    add("binary-pgm-comment", "binary",
        {"c.pgm": lambda d: open(d, "wb").write(b"P5\n# made by hand\n28 28\n255\n" + pixels),
         "x.pgm": lambda d: open(d, "wb").write(b"P5\n28 28\n255\n" + pixels)},
        ["@binary", "--counts", "c.pgm"], ["@binary", "--counts", "x.pgm"])
    add("binary-gray-alpha-png", "binary",
        {"ga.png": lambda d: png(d, 28, 28, 4, 2, lambda x, y, c: 255 if c else pixels[y * 28 + x]),
         "g.png": lambda d: png(d, 28, 28, 0, 1, lambda x, y, c: pixels[y * 28 + x])},
        ["@binary", "--counts", "ga.png"], ["@binary", "--counts", "g.png"])
    return out


def first_error(text):
    lines = text.strip().splitlines()
    errors = [line for line in lines if "error" in line or "what()" in line]
    return (errors or lines or [""])[0]


def same_output(a, b):
    """Equal up to the input's name (the first word of each line)."""
    strip = lambda t: [line.split(" ", 1)[-1] for line in t.strip().splitlines()]
    return strip(a) == strip(b)


def write_files(d, files):
    for rel, content in files.items():
        path = os.path.join(d, rel)
        if callable(content):
            content(path)
        elif content == "@fifo":
            os.mkfifo(path)
        elif content.startswith("@link:"):
            os.symlink(content[len("@link:"):], path)
        else:
            with open(path, "w") as f:
                f.write(content)


LIBRARY_MESSAGES = ["std::bad_alloc", "_M_range_check", "[json.exception", "basic_string::",
                    "vector::", "stoi", "stod", "map::at"]


def classify(rc, err, timed_out):
    if timed_out:
        return "hang"
    if rc < 0:
        return "crash"
    if rc == 0:
        return "silent"
    if rc == 1 and any(m in err for m in LIBRARY_MESSAGES):
        return "unclear"
    if rc == 1 and "error:" in err:
        return "clear"
    return "other"


MEMORY_LIMIT = [8 << 30]


def limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT[0], MEMORY_LIMIT[0]))


def run(cmd, cwd, timeout):
    try:
        p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                           errors="replace", start_new_session=True, preexec_fn=limit_memory)
        return p.returncode, p.stderr + p.stdout, False
    except subprocess.TimeoutExpired as e:
        return None, (e.stderr or b"").decode(errors="replace") if isinstance(e.stderr, bytes) else "", True


def build_binary(snnc, work, timeout):
    """A standalone binary of a briefly trained model (its ANN twin), or None."""
    d = os.path.join(work, "binary")
    os.makedirs(d)
    with open(f"{d}/m.snn", "w") as f:
        f.write(TRAIN % ("784", ""))
    mnist_dir(f"{d}/data")
    rc, _, _ = run([snnc, "run", "m.snn", "--data", "data", "--out", "o", "--quiet"], d, timeout)
    if rc != 0:
        return None
    # the ReLU twin: direct encoding, outputs that follow every pixel value
    rc, _, _ = run([snnc, "build", "m.snn", "--compare", "--weights", "o/compare.safetensors",
                    "-o", "bin"], d, timeout)
    return os.path.join(d, "bin") if rc == 0 else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--snnc", default=os.path.join(here, "..", "build", "bin", "snnc"))
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--only", default="")
    ap.add_argument("--memory-gib", type=float, default=8)
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args()
    MEMORY_LIMIT[0] = int(a.memory_gib * (1 << 30))
    snnc = os.path.abspath(a.snnc)
    counts = {k: 0 for k in ["clear", "crash", "silent", "hang", "unclear", "other", "correct",
                             "wrong"]}
    results = []
    work = tempfile.mkdtemp(prefix="snnc-probe-")
    binary = None
    try:
        for name, category, files, args, reference in cases():
            if a.only and a.only not in name:
                continue
            d = os.path.join(work, name)
            os.makedirs(d)
            write_files(d, files)
            if args[0] == "@binary":
                if binary is None:
                    binary = build_binary(snnc, work, a.timeout) or ""
                if not binary:
                    results.append({"case": name, "category": category, "outcome": "skipped"})
                    continue
            cmd = [binary] + args[1:] if args[0] == "@binary" else [snnc] + args
            rc, text, timed_out = run(cmd, d, a.timeout)
            outcome = classify(rc, text, timed_out)
            if reference:
                ref = run([binary] + reference[1:], d, a.timeout)[1]
                outcome = "correct" if rc == 0 and same_output(text, ref) else "wrong"
            counts[outcome] += 1
            results.append({"case": name, "category": category, "outcome": outcome, "rc": rc,
                            "message": first_error(text)[:200]})
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report = {"counts": counts}
    if a.verbose:
        report["cases"] = results
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
