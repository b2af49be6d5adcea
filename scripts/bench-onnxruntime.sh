#!/usr/bin/env bash
# ONNX Runtime reference for the E5-small-v2 encoder speed target (">= 1.2x ONNX Runtime's speed on the same
# machine"): installs onnxruntime-node (npm ci, versions pinned in bench/onnxruntime/package-lock.json), writes a
# BertModel of e5-small-v2's exact shape with seeded random weights as ONNX into a temporary directory (reused
# while make-model.mjs is unchanged), and times the seed workload with bench/onnxruntime/bench.mjs.
#
#   scripts/bench-onnxruntime.sh [--fused-attention] [bench.mjs options: --threads N --runs N --batch N
#                                 --save-optimized FILE.onnx]
#
# --fused-attention: use the variant whose self-attention is already one com.microsoft Attention node per layer
# (what the offline onnxruntime.transformers.optimizer writes; ORT's own online fusion does not fuse attention
# at opset 17). Environment: LOGCLF_ORT_MODEL_DIR (default ${TMPDIR:-/tmp}/logclf-onnxruntime-bench),
# LOGCLF_SHARED_DIR (default ../shared).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=bench/onnxruntime

# onnxruntime-node's postinstall would fetch CUDA provider libraries from outside the npm registry; the CPU
# provider ships inside the npm package, so skip it.
if [ ! -f "$dir/node_modules/onnxruntime-node/package.json" ] ||
  [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
  (cd "$dir" && ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund >&2)
fi

variant=e5-small-v2-random-seed1
make_args=(--seed 1)
bench_args=()
for arg in "$@"; do
  if [ "$arg" = --fused-attention ]; then
    variant=e5-small-v2-random-seed1-fused-attention
    make_args+=(--fused-attention)
  else
    bench_args+=("$arg")
  fi
done

model_dir=${LOGCLF_ORT_MODEL_DIR:-${TMPDIR:-/tmp}/logclf-onnxruntime-bench}
model=$model_dir/$variant.onnx
mkdir -p "$model_dir"
if [ ! -s "$model" ] || [ "$dir/make-model.mjs" -nt "$model" ]; then
  node "$dir/make-model.mjs" "$model" "${make_args[@]}" >&2
fi
exec node "$dir/bench.mjs" --model "$model" ${bench_args[@]+"${bench_args[@]}"}
