#!/usr/bin/env bash
# Line-rate benchmark: `logclf bench stream` classifies a million lines (the seed data set and the Loghub
# samples in ../shared, repeated and shuffled; a generated corpus when they are absent) file to file through
# the streaming pipeline, once per cache mode, with the built-in lexical model; then the same with an
# E5-small-v2 model (random weights of the real shape, head trained on the seed data set) and
# --cache template. Prints lines/s, hit rates, peak RSS and how many seed labels the template cache changes.
# Usage: scripts/bench-stream.sh [LINES]   Environment: LOGCLF (default build/bin/logclf), SKIP_E5=1.
set -euo pipefail
cd "$(dirname "$0")/.."
lines=${1:-1000000}
bin=${LOGCLF:-build/bin/logclf}
[ -x "$bin" ] || bash scripts/build.sh >/dev/null
shared=${LOGCLF_SHARED_DIR:-../shared}

"$bin" bench stream --lines "$lines"

[ "${SKIP_E5:-0}" = 1 ] && exit 0
tokenizer=$shared/models/e5-small-v2
if [ ! -f "$tokenizer/vocab.txt" ] && [ ! -f "$tokenizer/tokenizer.json" ]; then
  echo "bench-stream: SKIPPED E5: no tokenizer in $tokenizer" >&2
  exit 0
fi
seed=$shared/data/synthetic_logs.csv
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ ! -f "$seed" ]; then
  "$bin" corpus -n 2400 -o "$tmp/seed.csv" 2>/dev/null
  seed=$tmp/seed.csv
fi
echo
echo "E5-small-v2, random weights of the real shape (head trained on $seed, rules first):"
"$bin" model random --like e5-small-v2 "$tmp/e5" --tokenizer-dir "$tokenizer" >/dev/null
"$bin" train "$seed" -o "$tmp/model" --encoder e5-small-v2 --encoder-dir "$tmp/e5" --test-size 0 >/dev/null
"$bin" bench stream --lines "$lines" -m "$tmp/model" --encoder-dir "$tmp/e5" --cache template
