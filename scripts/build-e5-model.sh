#!/usr/bin/env bash
# Rebuilds the built-in E5 head (models/e5-small-v2) with the real e5-small-v2 weights on the project's own
# generated corpus, the same recipe as the lexical default (scripts/build-default-model.sh), then rebuilds
# logclf so the new bundle is embedded. The bundle records the weights' fingerprint; the weights themselves
# are not bundled. Weights: $LOGCLF_E5_DIR, else ../shared/models/e5-small-v2. About 10 minutes on 2 cores
# (24,000 forward passes).
set -euo pipefail
cd "$(dirname "$0")/.."
weights=${LOGCLF_E5_DIR:-../shared/models/e5-small-v2}
[ -f "$weights/model.safetensors" ] || { echo "no e5-small-v2 weights in $weights (set LOGCLF_E5_DIR)" >&2; exit 1; }
bash scripts/build.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
build/bin/logclf corpus --count 24000 --seed 1 -o "$tmp/corpus.csv"
# As for the lexical default: every row trains the head, 20% is held out for the recorded metrics, then the
# head is refit on everything with the C and temperature chosen on the first 80%.
build/bin/logclf train "$tmp/corpus.csv" -o models/e5-small-v2 --encoder e5-small-v2 --encoder-dir "$weights" \
  --all-rows --test-size 0.2 --seed 42 --refit
cmake --build build
