#!/usr/bin/python3
"""Filter a labelled CSV and split it stratified into PREFIX-train.csv / PREFIX-test.csv.

Python 3 standard library only. Used by compare-encoders.sh for the seed protocol (set a) and importable
(stratified_split, write_csv) by loghub_levels.py.

  splitcsv.py DATA.csv -o PREFIX [--test-size 0.3] [--seed 42] [--exclude-source NAME ...]
              [--drop-stage rule]   # with a `logclf classify --explain` output: drop rows whose stage is rule

Only the columns timestamp, source, log_message, target_label are written (those present in the input), so the
output of `logclf classify --explain` can be fed in and its predicted_label/stage/rule/confidence dropped.
With --test-size 0 every kept row goes to PREFIX-train.csv and no test file is written.
"""
import argparse
import collections
import csv
import random
import sys

OUT_COLUMNS = ["timestamp", "source", "log_message", "target_label"]


def stratified_split(labels, test_size, seed):
    """Indices (train, test), each in input order. Per label: shuffle with random.Random(seed), put
    round(n * test_size) rows into test, but at least one on each side when the label has 2+ rows."""
    rng = random.Random(seed)
    by_label = collections.defaultdict(list)
    for i, lab in enumerate(labels):
        by_label[lab].append(i)
    test = []
    for lab in sorted(by_label):
        idx = by_label[lab]
        rng.shuffle(idx)
        n = len(idx)
        k = int(round(n * test_size))
        if test_size > 0 and n >= 2:
            k = min(max(k, 1), n - 1)
        test.extend(idx[:k])
    test_set = set(test)
    train = [i for i in range(len(labels)) if i not in test_set]
    return train, sorted(test)


def write_csv(path, rows, columns=OUT_COLUMNS):
    f = sys.stdout if path == "-" else open(path, "w", newline="", encoding="utf-8")
    try:
        w = csv.writer(f, lineterminator="\n")  # csv quotes fields with , " or line breaks (RFC 4180)
        w.writerow(columns)
        for r in rows:
            w.writerow([r.get(c, "") for c in columns])
    finally:
        if f is not sys.stdout:
            f.close()


def label_counts(rows):
    return collections.Counter(r["target_label"] for r in rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data")
    ap.add_argument("-o", "--output", required=True, help="prefix of PREFIX-train.csv / PREFIX-test.csv")
    ap.add_argument("--test-size", type=float, default=0.3)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--exclude-source", action="append", default=[])
    ap.add_argument("--drop-stage", action="append", default=[],
                    help="drop rows whose 'stage' column has this value (e.g. rule)")
    a = ap.parse_args()

    with open(a.data, newline="", encoding="utf-8") as f:
        rd = csv.DictReader(f)
        cols = [c for c in OUT_COLUMNS if c in rd.fieldnames]
        rows = list(rd)
    if a.drop_stage and "stage" not in (rows[0] if rows else {}):
        sys.exit("splitcsv: --drop-stage needs a 'stage' column (logclf classify --explain output)")
    n0 = len(rows)
    excl = set(a.exclude_source)
    rows_src = [r for r in rows if r.get("source", "") not in excl]
    kept = [r for r in rows_src if r.get("stage", "") not in set(a.drop_stage)]
    print(f"splitcsv: {a.data}: {n0} rows, {n0 - len(rows_src)} from excluded sources, "
          f"{len(rows_src) - len(kept)} with stage in {a.drop_stage or '[]'}, {len(kept)} kept", file=sys.stderr)
    if a.test_size <= 0:
        write_csv(a.output + "-train.csv", kept, cols)
        parts = [("train", kept)]
    else:
        tr, te = stratified_split([r["target_label"] for r in kept], a.test_size, a.seed)
        train = [kept[i] for i in tr]
        test = [kept[i] for i in te]
        write_csv(a.output + "-train.csv", train, cols)
        write_csv(a.output + "-test.csv", test, cols)
        parts = [("train", train), ("test", test)]
    labels = sorted(set(r["target_label"] for r in kept))
    w = max([len(l) for l in labels] + [5])
    print(f"{'label':<{w}}  " + "  ".join(f"{n:>6}" for n, _ in parts), file=sys.stderr)
    for lab in labels:
        print(f"{lab:<{w}}  " + "  ".join(f"{label_counts(p)[lab]:>6}" for _, p in parts), file=sys.stderr)
    print(f"{'total':<{w}}  " + "  ".join(f"{len(p):>6}" for _, p in parts), file=sys.stderr)


if __name__ == "__main__":
    main()
