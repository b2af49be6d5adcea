"""classify_batch from Python against `logclf classify` on the same lines (the seed data set repeated).

    /usr/bin/python3 python/bench.py [--lines 100000] [--repeat 3]

Uses the package and CLI of the CMake build (build/python, build/bin/logclf) unless LOGCLF_PYTHONPATH or
LOGCLF_BIN say otherwise. The CLI's time is the wall time of `logclf classify` on the CSV (reading,
classifying, writing) less that of the same command on a one-line CSV (process start and model load);
Python's is classify_batch alone (the messages already in a list, the Result objects made), as a caller
sees it. Both use the built-in model on every core, per cache mode.
"""

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, os.environ.get("LOGCLF_PYTHONPATH", str(ROOT / "build" / "python")))
import logclf  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the best is shown")
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "synthetic_logs.csv"))
    args = parser.parse_args()
    cli = os.environ.get("LOGCLF_BIN", str(ROOT / "build" / "bin" / "logclf"))

    with open(args.data, newline="", encoding="utf-8") as f:
        rows = [(r["log_message"], r["source"]) for r in csv.DictReader(f)]
    rows = (rows * (args.lines // len(rows) + 1))[: args.lines]
    messages = [m for m, _ in rows]
    sources = [s for _, s in rows]
    clf = logclf.Classifier.load()
    print(f"logclf {logclf.__version__}: {len(rows)} lines of {Path(args.data).name}, built-in model, "
          f"{os.cpu_count()} cores; best of {args.repeat}")
    print(f"{'cache':<8} {'CLI lines/s':>12} {'Python lines/s':>15} {'Python / CLI':>13}")
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "lines.csv"
        with open(data, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(["source", "log_message"])
            writer.writerows((s, m) for m, s in rows)
        one_line = Path(tmp) / "one.csv"
        one_line.write_text("source,log_message\nx,Backup completed successfully.\n", encoding="utf-8")

        def cli_seconds(path, cache):
            start = time.perf_counter()
            subprocess.run([cli, "classify", str(path), "-q", "-o", str(Path(tmp) / "out.csv"), "--cache", cache],
                           check=True)
            return time.perf_counter() - start

        for cache in ("exact", "off"):
            start_up = min(cli_seconds(one_line, cache) for _ in range(args.repeat))
            cli_rate = max(len(rows) / (cli_seconds(data, cache) - start_up) for _ in range(args.repeat))
            py_rate = 0.0
            for _ in range(args.repeat):
                model = logclf.Classifier.load()  # a fresh cache each run, as each CLI run has
                start = time.perf_counter()
                results = model.classify_batch(messages, sources, cache=cache)
                py_rate = max(py_rate, len(rows) / (time.perf_counter() - start))
                assert len(results) == len(rows)
            print(f"{cache:<8} {cli_rate:>12,.0f} {py_rate:>15,.0f} {py_rate / cli_rate:>12.2f}x")
    del clf


if __name__ == "__main__":
    main()
