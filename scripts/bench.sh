#!/usr/bin/env bash
# Builds logclf and prints end-to-end classify throughput (file in, file out, the streaming pipeline on every
# core, no cache) with the built-in model on the seed data set and the Loghub samples in ../shared, each
# repeated to >= 100,000 lines; then the line-rate benchmark with each cache mode (logclf bench stream).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh >/dev/null
shared=${LOGCLF_SHARED_DIR:-../shared}
inputs=()
[ -f "$shared/data/synthetic_logs.csv" ] && inputs+=("$shared/data/synthetic_logs.csv")
for f in "$shared"/data/loghub/*.log; do [ -f "$f" ] && inputs+=("$f"); done
if [ ${#inputs[@]} -eq 0 ]; then
  echo "bench: $shared/data is absent; measuring on a generated corpus instead" >&2
  build/bin/logclf corpus -n 20000 -o /tmp/logclf-bench-corpus.csv
  inputs=(/tmp/logclf-bench-corpus.csv)
fi
build/bin/logclf bench classify --cache off --lines 100000 "${inputs[@]}"
echo
build/bin/logclf bench stream
