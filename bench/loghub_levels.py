#!/usr/bin/python3
"""Build a labelled real-log set from the Loghub samples: the label is each line's own log level.

Python 3 standard library only.

  loghub_levels.py [-i DIR] -o OUT.csv                          # every parsable line
  loghub_levels.py [-i DIR] -o PREFIX --split 0.5 --seed 42     # stratified: PREFIX-train.csv, PREFIX-test.csv
  loghub_levels.py [-i DIR] -o PREFIX --hold-out-systems HDFS   # train: the other systems, test: HDFS

Input: DIR/<System>_2k.log (default DIR: ../shared/data/loghub relative to the checkout). Systems whose lines
carry a level token (see PARSERS):
  Apache     [Sun Dec 04 04:47:44 2005] [notice] MESSAGE          levels notice, error
  HDFS       081109 203615 148 INFO dfs.DataNode$...: MESSAGE       levels INFO, WARN    (148 = thread id)
  OpenStack  nova-api.log.1.2017-05-16_13:53:08 2017-05-16 00:00:00.008 25746 INFO nova.osapi...: MESSAGE
                                                                   levels INFO, WARNING (25746 = pid)
Left out, because their lines carry no level token:
  Linux      syslog lines "Jun 14 15:16:01 combo sshd(pam_unix)[19939]: ..." without a priority; the only
             level-looking word, "ALERT" in "logrotate: ALERT exited abnormally", is logrotate's own text.
  OpenSSH    syslog lines without a priority; sshd's "error:" / "fatal:" prefixes mark 48 of 2,000 lines, the
             other lines (info and PAM messages of unknown severity) have no token, so labelling them would be
             guessing.

Output CSV: timestamp,source,log_message,target_label (RFC 4180 quoting by the csv module).
  timestamp     ISO "YYYY-MM-DD HH:MM:SS[.fff]"
  source        the system name (Apache, HDFS, OpenStack)
  log_message   the line without its timestamp / thread-or-pid / file-name prefix and without the level token
                (the component, e.g. "dfs.DataNode$PacketResponder:", stays in the message)
  target_label  the level normalised: debug, info, warning, error, critical. Apache's "notice" is mapped to
                info (--keep-notice keeps it apart); WARN -> warning, ERR -> error, FATAL/CRIT/EMERG/ALERT ->
                critical.
Per-label counts (per system and per output file) go to standard error.
"""
import argparse
import collections
import csv
import os
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the checkout
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from splitcsv import stratified_split, write_csv  # noqa: E402

MONTHS = {m: i + 1 for i, m in enumerate("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split())}

LEVELS = {
    "trace": "debug", "debug": "debug",
    "info": "info", "information": "info", "notice": "info",
    "warn": "warning", "warning": "warning",
    "err": "error", "error": "error",
    "crit": "critical", "critical": "critical", "fatal": "critical", "severe": "critical",
    "alert": "critical", "emerg": "critical", "emergency": "critical",
}

APACHE = re.compile(r"^\[(\w{3}) (\w{3}) +(\d{1,2}) (\d{2}:\d{2}:\d{2}) (\d{4})\] \[(\w+)\] ?(.*)$")
HDFS = re.compile(r"^(\d{2})(\d{2})(\d{2}) (\d{2})(\d{2})(\d{2}) (\d+) ([A-Z]+) (.*)$")
OPENSTACK = re.compile(r"^(\S+) (\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)?) (\d+) ([A-Z]+) (.*)$")


def parse_apache(line):
    m = APACHE.match(line)
    if not m:
        return None
    _, mon, day, hms, year, level, msg = m.groups()
    return f"{year}-{MONTHS.get(mon, 0):02d}-{int(day):02d} {hms}", level, msg


def parse_hdfs(line):
    m = HDFS.match(line)
    if not m:
        return None
    yy, mo, dd, hh, mi, ss, _tid, level, msg = m.groups()
    return f"20{yy}-{mo}-{dd} {hh}:{mi}:{ss}", level, msg


def parse_openstack(line):
    m = OPENSTACK.match(line)
    if not m:
        return None
    _file, ts, _pid, level, msg = m.groups()
    return ts, level, msg


PARSERS = {"Apache": parse_apache, "HDFS": parse_hdfs, "OpenStack": parse_openstack}
NO_LEVEL = {
    "Linux": "syslog lines without a priority token",
    "OpenSSH": "syslog lines without a priority token (only 48 'error:'/'fatal:' prefixes)",
}


def default_input_dir():
    checkout = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return os.path.normpath(os.path.join(checkout, "..", "shared", "data", "loghub"))


def load(input_dir, systems, keep_notice):
    rows = []
    files = sorted(f for f in os.listdir(input_dir) if f.endswith(".log"))
    if not files:
        sys.exit(f"loghub_levels: no *.log files in {input_dir}")
    for fn in files:
        system = fn.split("_")[0]
        if systems and system not in systems:
            continue
        parser = PARSERS.get(system)
        if parser is None:
            why = NO_LEVEL.get(system, "no parser for this system")
            print(f"loghub_levels: {fn}: left out ({why})", file=sys.stderr)
            continue
        bad = unknown = empty = 0
        with open(os.path.join(input_dir, fn), encoding="utf-8", errors="replace", newline="") as f:
            for raw in f:
                line = raw.rstrip("\r\n")
                if not line.strip():
                    continue
                p = parser(line)
                if p is None:
                    bad += 1
                    continue
                ts, level, msg = p
                lab = LEVELS.get(level.lower())
                if lab is None:
                    unknown += 1
                    continue
                if keep_notice and level.lower() == "notice":
                    lab = "notice"
                msg = msg.strip()
                if not msg:
                    empty += 1
                    continue
                rows.append({"timestamp": ts, "source": system, "log_message": msg, "target_label": lab})
        if bad or unknown or empty:
            print(f"loghub_levels: {fn}: skipped {bad} unparsable, {unknown} unknown-level, {empty} empty lines",
                  file=sys.stderr)
    return rows


def print_counts(title, rows):
    systems = sorted(set(r["source"] for r in rows))
    labels = sorted(set(r["target_label"] for r in rows))
    c = collections.Counter((r["source"], r["target_label"]) for r in rows)
    print(f"{title}: {len(rows)} rows", file=sys.stderr)
    print(f"  {'source':<10}" + "".join(f"{l:>10}" for l in labels) + f"{'total':>10}", file=sys.stderr)
    for s in systems + ["all"]:
        vals = [sum(c[(x, l)] for x in systems) if s == "all" else c[(s, l)] for l in labels]
        print(f"  {s:<10}" + "".join(f"{v:>10}" for v in vals) + f"{sum(vals):>10}", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-i", "--input-dir", default=default_input_dir())
    ap.add_argument("-o", "--output", required=True,
                    help="CSV file (- for stdout); with --split/--hold-out-systems a prefix (a .csv suffix is dropped)")
    ap.add_argument("--systems", default="", help="comma-separated systems to use (default: all with levels)")
    ap.add_argument("--split", type=float, default=None, metavar="TEST_SHARE",
                    help="stratified split by label; this share goes to PREFIX-test.csv")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--hold-out-systems", default="", metavar="A,B",
                    help="cross-system split: these systems form PREFIX-test.csv, the others PREFIX-train.csv")
    ap.add_argument("--keep-notice", action="store_true", help="label Apache [notice] lines 'notice', not 'info'")
    a = ap.parse_args()
    if a.split is not None and a.hold_out_systems:
        sys.exit("loghub_levels: --split and --hold-out-systems are exclusive")
    if a.split is not None and not 0 < a.split < 1:
        sys.exit("loghub_levels: --split must be in (0, 1)")

    systems = set(s for s in a.systems.split(",") if s)
    rows = load(a.input_dir, systems, a.keep_notice)
    print_counts(f"loghub levels from {a.input_dir}", rows)

    if a.split is None and not a.hold_out_systems:
        write_csv(a.output, rows)
        return
    prefix = a.output[:-4] if a.output.endswith(".csv") else a.output
    if a.hold_out_systems:
        held = set(s for s in a.hold_out_systems.split(",") if s)
        missing = held - set(r["source"] for r in rows)
        if missing:
            sys.exit(f"loghub_levels: --hold-out-systems: no rows for {', '.join(sorted(missing))}")
        train = [r for r in rows if r["source"] not in held]
        test = [r for r in rows if r["source"] in held]
        unseen = set(r["target_label"] for r in test) - set(r["target_label"] for r in train)
        if unseen:
            print(f"loghub_levels: WARNING: test labels absent from train: {', '.join(sorted(unseen))}",
                  file=sys.stderr)
    else:
        tr, te = stratified_split([r["target_label"] for r in rows], a.split, a.seed)
        train = [rows[i] for i in tr]
        test = [rows[i] for i in te]
    write_csv(prefix + "-train.csv", train)
    write_csv(prefix + "-test.csv", test)
    print_counts(prefix + "-train.csv", train)
    print_counts(prefix + "-test.csv", test)
    seen = set(r["log_message"] for r in train)
    same = sum(1 for r in test if r["log_message"] in seen)
    print(f"test rows whose message occurs verbatim in train: {same} of {len(test)}", file=sys.stderr)


if __name__ == "__main__":
    main()
