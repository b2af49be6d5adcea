#!/usr/bin/env bash
# Which encoder when: logclf with --encoder lexical and --encoder e5-small-v2 (the real weights) on held-out
# sets, plus the scikit-learn TF-IDF baseline on the same files. One row per (set, encoder). See bench/README.md.
#
# Usage: bench/compare-encoders.sh [SET ...]        SET: a b b-all c d (default: all of them)
#   a      seed protocol: ../shared/data/synthetic_logs.csv without LegacyCRM and without the rows a built-in
#          rule matches (found with `logclf classify --explain`, stage = rule), stratified 70/30, seed 42
#   b      novel wordings: train on the whole seed file minus LegacyCRM (logclf defaults: head fit on the rows
#          no rule matches), test tests/data/novel_wordings.csv with rules + head
#   b-all  the same with `train --all-rows` (the head also learns the rule-matched rows)
#   c      Loghub levels (bench/loghub_levels.py), stratified 50/50, seed 42, no rules
#   d      Loghub levels cross-system: train on the other systems, test on $HOLD_OUT (default HDFS), no rules
# Environment: LOGCLF (build/bin/logclf), LOGCLF_SHARED_DIR (../shared), E5_DIR ($shared/models/e5-small-v2),
#   PYTHON (/usr/bin/python3, needs python3-sklearn for the baseline), ENCODERS ("lexical e5-small-v2"),
#   HOLD_OUT (HDFS), LEX_CLASSIFY_LINES (100000), E5_CLASSIFY_LINES (1000), SKIP_SKLEARN=1,
#   BENCH_TMP (work directory, kept; default a fresh mktemp -d, removed at the end unless KEEP_TMP=1),
#   PREPARE_ONLY=1 (write the split files SET-train.csv / SET-test.csv into $BENCH_TMP and stop).
# Every logclf call uses the CLI's defaults (C, class weights, threshold, ...) apart from --test-size 0 (the
# split is ours), --rules (an empty file for the Loghub sets), --all-rows (b-all) and the encoder options.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.."
bin=${LOGCLF:-build/bin/logclf}
shared=${LOGCLF_SHARED_DIR:-../shared}
e5dir=${E5_DIR:-$shared/models/e5-small-v2}
py=${PYTHON:-/usr/bin/python3}
encoders=${ENCODERS:-lexical e5-small-v2}
hold=${HOLD_OUT:-HDFS}
lex_lines=${LEX_CLASSIFY_LINES:-100000}
e5_lines=${E5_CLASSIFY_LINES:-1000}
sets=("$@")
[ ${#sets[@]} -gt 0 ] || sets=(a b b-all c d)
seed=$shared/data/synthetic_logs.csv
novel=tests/data/novel_wordings.csv

if [ -n "${BENCH_TMP:-}" ]; then
  tmp=$BENCH_TMP; mkdir -p "$tmp"
else
  tmp=$(mktemp -d -t logclf-compare.XXXXXX)
  [ "${KEEP_TMP:-0}" = 1 ] || trap 'rm -rf "$tmp"' EXIT
fi
[ -x /usr/bin/time ] || { echo "compare-encoders: /usr/bin/time missing (apt-get install -y time)" >&2; exit 1; }
[ -f "$seed" ] || { echo "compare-encoders: $seed missing" >&2; exit 1; }
case " $encoders " in *" e5-small-v2 "*)
  [ -f "$e5dir/model.safetensors" ] || { echo "compare-encoders: no E5 weights in $e5dir" >&2; exit 1; } ;;
esac

# The lead rebuilds the binary from time to time: wait (up to 10 min) when it is briefly missing.
wait_bin() {
  local i=0
  while [ ! -x "$bin" ]; do
    [ $i -ge 120 ] && { echo "compare-encoders: $bin missing for 10 min" >&2; exit 1; }
    [ $i -eq 0 ] && echo "compare-encoders: waiting for $bin ..." >&2
    sleep 5; i=$((i + 1))
  done
}
bin_id() { stat -c '%Y %s' "$bin" 2>/dev/null || echo missing; }

wait_bin
commit=$(git log -1 --format=%h 2>/dev/null || echo unknown)
dirty=$(git status --porcelain --untracked-files=no 2>/dev/null | wc -l)
bin_start=$(bin_id)
echo "$("$bin" --version) at commit $commit, working tree: $([ "$dirty" = 0 ] && echo clean || echo "dirty ($dirty tracked files modified)")"
echo "binary $bin built $(date -d @"${bin_start%% *}" '+%F %T')"
echo "work directory: $tmp"
echo

# ---- the sets -------------------------------------------------------------------------------------------
printf 'version: 1\nrules: []\n' > "$tmp/norules.yaml"
need_seed_split=0; need_b=0; need_c=0; need_d=0
for s in "${sets[@]}"; do
  case $s in
    a) need_seed_split=1 ;; b|b-all) need_b=1 ;; c) need_c=1 ;; d) need_d=1 ;;
    *) echo "compare-encoders: unknown set '$s' (a b b-all c d)" >&2; exit 2 ;;
  esac
done
if [ $need_seed_split = 1 ]; then
  wait_bin
  "$bin" classify "$seed" --explain -q -o "$tmp/seed-explain.csv"   # built-in model: stage = rule marks rule rows
  "$py" bench/splitcsv.py "$tmp/seed-explain.csv" -o "$tmp/a" --exclude-source LegacyCRM --drop-stage rule \
    --test-size 0.3 --seed 42
fi
if [ $need_b = 1 ]; then
  "$py" bench/splitcsv.py "$seed" -o "$tmp/b" --exclude-source LegacyCRM --test-size 0
  cp "$novel" "$tmp/b-test.csv"
  cp "$tmp/b-train.csv" "$tmp/b-all-train.csv"; cp "$novel" "$tmp/b-all-test.csv"
fi
[ $need_c = 1 ] && "$py" bench/loghub_levels.py -i "$shared/data/loghub" -o "$tmp/c" --split 0.5 --seed 42
[ $need_d = 1 ] && "$py" bench/loghub_levels.py -i "$shared/data/loghub" -o "$tmp/d" --hold-out-systems "$hold"
echo
[ "${PREPARE_ONLY:-0}" = 1 ] && exit 0   # bench/stacking.py: only write the split files into $BENCH_TMP

train_opts() {
  case $1 in
    a|b) ;;
    b-all) echo --all-rows ;;
    c|d) echo --rules "$tmp/norules.yaml" ;;
  esac
}

# classify input for the throughput figure: the test file's rows repeated / cut to N lines
make_classify_input() {  # TEST N OUT
  "$py" - "$1" "$2" "$3" <<'EOF'
import csv, sys
src, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with open(src, newline="", encoding="utf-8") as f:
    rd = csv.reader(f); head = next(rd); rows = list(rd)
with open(out, "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f, lineterminator="\n"); w.writerow(head)
    for i in range(n): w.writerow(rows[i % len(rows)])
EOF
}

results=$tmp/results.tsv
: > "$results"
for s in "${sets[@]}"; do
  for enc in $encoders; do
    m=$tmp/model-$s-$enc
    encopt=(); evalopt=()
    if [ "$enc" = e5-small-v2 ]; then
      encopt=(--encoder e5-small-v2 --encoder-dir "$e5dir"); evalopt=(--encoder-dir "$e5dir"); n=$e5_lines
    else
      encopt=(--encoder lexical); n=$lex_lines
    fi
    echo "== set $s, encoder $enc" >&2
    wait_bin
    # shellcheck disable=SC2046
    /usr/bin/time -v -o "$tmp/$s-$enc.train.time" "$bin" train "$tmp/$s-train.csv" -o "$m" --test-size 0 \
      $(train_opts "$s") "${encopt[@]}" > "$tmp/$s-$enc.train.log" 2>&1 \
      || { cat "$tmp/$s-$enc.train.log" >&2; exit 1; }
    wait_bin
    "$bin" evaluate "$tmp/$s-test.csv" -m "$m" "${evalopt[@]}" --json > "$tmp/$s-$enc.eval.json"
    make_classify_input "$tmp/$s-test.csv" "$n" "$tmp/$s-$enc.classify.csv"
    wait_bin
    /usr/bin/time -v -o "$tmp/$s-$enc.classify.time" "$bin" classify "$tmp/$s-$enc.classify.csv" -m "$m" \
      "${evalopt[@]}" -q --cache off -o - > /dev/null
    printf '%s\t%s\t%s\t%s\n' "$s" "$enc" "$m" "$n" >> "$results"
  done
done

# ---- the table ------------------------------------------------------------------------------------------
"$py" - "$tmp" "$results" <<'EOF'
import json, re, sys
tmp, results = sys.argv[1], sys.argv[2]

def time_v(path):
    t = open(path).read()
    m = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", t)
    parts = [float(x) for x in m.group(1).split(":")]
    sec = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1)) / 1024
    return sec, rss

def macro_f1_real(rep):
    """macro F1 over the real labels present in truth or predictions; Uncertain is not a class here (its
    lines only lower recall)."""
    labs, cm = rep["labels"], rep["confusion"]
    f1s = []
    for i, l in enumerate(labs):
        if l == "Uncertain":
            continue
        tp = cm[i][i]; sup = sum(cm[i]); pred = sum(row[i] for row in cm)
        if sup == 0 and pred == 0:
            continue
        p = tp / pred if pred else 0.0; r = tp / sup if sup else 0.0
        f1s.append(2 * p * r / (p + r) if p + r else 0.0)
    return sum(f1s) / len(f1s)

def fmt_num(v):
    return f"{v:g}" if isinstance(v, (int, float)) else ("-" if v is None else str(v))

hdr = ["set", "encoder", "train", "test", "C", "T", "acc", "F1", "F1*", "argmax acc", "argmax F1", "argmax n",
       "Uncertain", "train s", "train MB", "classify lines/s", "(lines)", "classify MB"]
rows = []
for line in open(results):
    s, enc, model, n = line.rstrip("\n").split("\t")
    ev = json.load(open(f"{tmp}/{s}-{enc}.eval.json"))
    meta = json.load(open(f"{model}/logclf-model.json"))
    training = meta.get("training", {})
    ntrain = training.get("rows", {}).get("train", "?")
    head = training.get("head", {}) if isinstance(training.get("head"), dict) else {}
    c_used = head.get("C", training.get("options", {}).get("C"))   # chosen C (cross-validated) or the option
    temp = head.get("temperature")                                 # calibration temperature, if any
    tr_s, tr_mb = time_v(f"{tmp}/{s}-{enc}.train.time")
    cl_s, cl_mb = time_v(f"{tmp}/{s}-{enc}.classify.time")
    h, mo = ev["hybrid"], ev["model"]
    unc = ev["stages"].get("uncertain", 0) / ev["total"]
    rows.append([s, enc, str(ntrain), str(ev["total"]), fmt_num(c_used),
                 f"{temp:.3g}" if isinstance(temp, (int, float)) else "-", f"{h['accuracy']:.4f}", f"{h['macro_avg']['f1']:.4f}",
                 f"{macro_f1_real(h):.4f}", f"{mo['accuracy']:.4f}", f"{mo['macro_avg']['f1']:.4f}",
                 str(mo["total"]), f"{100 * unc:.1f}%", f"{tr_s:.1f}", f"{tr_mb:.0f}",
                 f"{int(n) / cl_s:,.0f}", n, f"{cl_mb:.0f}"])
w = [max(len(r[i]) for r in rows + [hdr]) for i in range(len(hdr))]
fmt = lambda r: "| " + " | ".join(c.ljust(w[i]) if i < 2 else c.rjust(w[i]) for i, c in enumerate(r)) + " |"
print(fmt(hdr)); print("|" + "|".join("-" * (x + 2) for x in w) + "|")
for r in rows: print(fmt(r))
EOF
cat <<'EOF'
C: the head's C (chosen by logclf's cross-validation when --C is auto); T: its calibration temperature (- if none).
acc, F1: `logclf evaluate` (rules, then head, threshold: Uncertain counts as wrong); F1 is the macro F1 logclf
prints (an Uncertain column with F1 0 is averaged in when any line is Uncertain); F1* averages the real labels
only. argmax: evaluate's "Model alone (arg-max)" on the argmax-n lines no rule decided. train s / MB: wall time
and peak RSS of `logclf train`; classify: `logclf classify --cache off -q`, the test rows repeated/cut to
(lines), wall time incl. model load, and its peak RSS.
EOF

if [ "${SKIP_SKLEARN:-0}" != 1 ]; then
  echo
  echo "scikit-learn baseline (bench/sklearn_baseline.py) on the same files:"
  printf '| %-5s | %-12s | %6s | %6s | %6s | %6s |\n' set class_weight train test acc "macro F1"
  printf '|-------|--------------|--------|--------|--------|----------|\n'
  for s in "${sets[@]}"; do
    [ "$s" = b ] && continue   # the Python side has no rules: b-all is its counterpart
    for cw in none balanced; do
      "$py" bench/sklearn_baseline.py "$tmp/$s-train.csv" "$tmp/$s-test.csv" --class-weight "$cw" \
        --json "$tmp/$s-sk-$cw.json" > "$tmp/$s-sk-$cw.txt"
      "$py" - "$tmp/$s-sk-$cw.json" "$s" "$cw" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
print(f"| {sys.argv[2]:<5} | {sys.argv[3]:<12} | {d['train_rows']:>6} | {d['test_rows']:>6} | "
      f"{d['accuracy']:.4f} | {d['macro_f1']:>8.4f} |")
EOF
    done
  done
  echo "(class_weight none is scikit-learn's default, balanced is logclf's; b-all: trained on every seed row"
  echo " minus LegacyCRM, no rules, like logclf's arg-max figure for b-all)"
fi

echo
bin_end=$(bin_id)
[ "$bin_start" = "$bin_end" ] || echo "WARNING: $bin changed during the run (rebuilt by someone): rows may mix binaries"
echo "commit $commit, working tree $([ "$dirty" = 0 ] && echo clean || echo dirty) at start; now $(git log -1 --format=%h 2>/dev/null)"
