"""The standalone binary's class per input equals snnc run's evaluation, sample by sample.
usage: same_predictions.py BINARY_OUTPUT PREDICTIONS_CSV"""
import csv
import re
import sys

got = [int(m.group(1)) for line in open(sys.argv[1])
       if (m := re.match(r"\S+\[\d+\] (\d+)", line))]
want = [int(row["predicted"]) for row in csv.DictReader(open(sys.argv[2]))]
if not want or got != want:
    print(f"binary: {got}\nsnnc run: {want}")
    sys.exit(1)
print(f"{len(got)} predictions identical")
