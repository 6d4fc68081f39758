"""Kills a training run at every file commit it makes and checks that resuming gives the
uninterrupted run's result bit for bit.

Every output snnc writes becomes visible through rename(2) (a temporary file or directory
renamed into place), so killing the process at the K-th rename, for every K, visits every
point at which a crash can leave the run directory. strace injects SIGKILL at the K-th
rename call. After each kill the run is resumed (or, killed before its configuration was
written, started again); its weights, predictions and per-epoch metrics must equal those
of an uninterrupted run, and no temporary file may remain.

usage: kill_at_every_rename.py WORK_DIR -- SNNC_RUN_ARGS...
(SNNC_RUN_ARGS: `snnc run FILE --data DIR ...` without --out / --resume)"""
import filecmp
import glob
import json
import os
import shutil
import subprocess
import sys

RENAMES = "rename,renameat,renameat2"

work = sys.argv[1]
args = sys.argv[sys.argv.index("--") + 1:]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)


def run(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def metrics(out):
    s = json.load(open(os.path.join(out, "summary.json")))
    keep = ("train_loss", "train_accuracy", "test_accuracy", "spike_rate")
    return [(r["role"], r.get("replicate"), [{k: e[k] for k in keep} for e in r["epochs"]],
             r["complete"]) for r in s["runs"]], s["complete"]


full = os.path.join(work, "full")
r = run(args + ["--out", full, "--quiet"])
if r.returncode != 0:
    sys.exit("uninterrupted run failed:\n" + r.stderr)
reference = metrics(full)
published = sorted(os.path.basename(p) for p in glob.glob(os.path.join(full, "*.safetensors")) +
                   glob.glob(os.path.join(full, "*_predictions.csv")))

# how many renames an uninterrupted run makes
trace = os.path.join(work, "renames.txt")
r = run(["strace", "-f", "-qq", "-o", trace, "-e", "trace=" + RENAMES] + args +
        ["--out", os.path.join(work, "counted"), "--quiet"])
if r.returncode != 0:
    sys.exit("traced run failed:\n" + r.stderr)
total = sum(1 for line in open(trace) if "rename" in line and "resumed>" not in line)
print(f"an uninterrupted run commits {total} files; killing it at each of them")

failures = []
for k in range(1, total + 1):
    part = os.path.join(work, f"kill-{k}")
    r = run(["strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=" + RENAMES,
             "-e", f"inject={RENAMES}:signal=SIGKILL:when={k}"] + args + ["--out", part, "--quiet"])
    if r.returncode == 0:
        failures.append(f"kill {k}: the run was not killed")
        continue
    r = run(args + ["--resume", part, "--quiet"])
    if r.returncode != 0 and "holds no snnc run" in r.stderr:
        r = run(args + ["--out", part, "--quiet"])  # killed before anything was committed
    if r.returncode != 0:
        failures.append(f"kill {k}: resume failed: {r.stderr.strip()}")
        continue
    if metrics(part) != reference:
        failures.append(f"kill {k}: the metrics differ from the uninterrupted run's")
    for name in published:
        if not filecmp.cmp(os.path.join(full, name), os.path.join(part, name), shallow=False):
            failures.append(f"kill {k}: {name} differs from the uninterrupted run's")
    stray = [p for p in glob.glob(os.path.join(part, "**", "*.tmp.*"), recursive=True)]
    if stray:
        failures.append(f"kill {k}: temporary files left: {stray}")
    shutil.rmtree(part)

for f in failures:
    print(f)
print(f"{total - len(failures)} of {total} kill points resumed to the uninterrupted result")
sys.exit(1 if failures or total < 10 else 0)
