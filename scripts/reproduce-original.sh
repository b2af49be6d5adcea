#!/usr/bin/env bash
# Reproduces the original project's evaluation on the seed data set with both encoders: rules first
# (the original's eight, then logclf's default rules), the head fitted on the rows no rule matches with
# LegacyCRM left out, a 70/30 stratified split with seed 42, and the report on the held-out 30% through
# the threshold (Uncertain counts as wrong), the head alone, the reliability of its probabilities and a
# heatmap per run. E5 weights: $LOGCLF_E5_DIR, else ../shared/models/e5-small-v2.
# Usage: scripts/reproduce-original.sh [OUTPUT_DIR]   (default build/reproduce)
set -euo pipefail
cd "$(dirname "$0")/.."
data=../shared/data/synthetic_logs.csv
weights=${LOGCLF_E5_DIR:-../shared/models/e5-small-v2}
out=${1:-build/reproduce}
[ -f "$data" ] || { echo "the seed data set $data is absent" >&2; exit 1; }
bash scripts/build.sh >/dev/null
mkdir -p "$out"
encoders=(lexical)
if [ -f "$weights/model.safetensors" ]; then
  encoders+=(e5-small-v2)
else
  echo "NOTE: no e5-small-v2 weights in $weights: the E5 runs are skipped (set LOGCLF_E5_DIR)" >&2
fi
for rules in original default; do
  for encoder in "${encoders[@]}"; do
    echo "=== encoder $encoder, rules/$rules.yaml ==="
    build/bin/logclf train "$data" -o "$out/$encoder-$rules" --exclude-source LegacyCRM --test-size 0.3 --seed 42 \
      --rules "rules/$rules.yaml" --encoder "$encoder" --encoder-dir "$weights" --heatmap "$out/$encoder-$rules.png"
    echo
  done
done
