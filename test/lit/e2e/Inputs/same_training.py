"""Checks that two training summaries followed the same course: per epoch, the train loss of
run ROLE within a relative tolerance and the test accuracy within an absolute one (float
rounding of sums in another order may flip single spikes, nothing more).
usage: same_training.py SUMMARY_A SUMMARY_B ROLE LOSS_REL ACC_ABS"""
import json
import sys


def epochs(path, role):
    s = json.load(open(path))
    return next(r for r in s["runs"] if r["role"] == role)["epochs"]


a, b = epochs(sys.argv[1], sys.argv[3]), epochs(sys.argv[2], sys.argv[3])
loss_rel, acc_abs = float(sys.argv[4]), float(sys.argv[5])
ok = len(a) == len(b)
for i, (ea, eb) in enumerate(zip(a, b)):
    dl = abs(ea["train_loss"] - eb["train_loss"]) / max(abs(eb["train_loss"]), 1e-12)
    da = abs(ea["test_accuracy"] - eb["test_accuracy"])
    print(f"epoch {i + 1}: train loss {ea['train_loss']:.6f} / {eb['train_loss']:.6f} "
          f"(relative {dl:.2e}), test accuracy {ea['test_accuracy']:.4f} / {eb['test_accuracy']:.4f}")
    ok &= dl <= loss_rel and da <= acc_abs
sys.exit(0 if ok else 1)
