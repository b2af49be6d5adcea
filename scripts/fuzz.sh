#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan+UBSan) and runs each for SECONDS (default 300).
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]   Crash inputs are left in fuzz-corpus/TARGET/.
# LOGCLF_FUZZ_BUILD_DIR picks the build directory (default build-fuzz).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-300}
shift || true
build_dir=${LOGCLF_FUZZ_BUILD_DIR:-build-fuzz}
bash scripts/setup.sh
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang \
  -DCMAKE_CXX_COMPILER=clang++ -DLOGCLF_FUZZ=ON >/dev/null
cmake --build "$build_dir" --target "${@:-all}"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for src in fuzz/*_fuzz.cc; do targets+=("$(basename "$src" .cc)"); done
fi
for t in "${targets[@]}"; do
  mkdir -p "fuzz-corpus/$t"
  seeds=()
  [ -d "fuzz/seeds/$t" ] && seeds=("fuzz/seeds/$t")
  echo "== $t for ${seconds}s"
  LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp \
    "$build_dir/fuzz/$t" -max_total_time="$seconds" -max_len=65536 -print_final_stats=1 \
    -artifact_prefix="fuzz-corpus/$t/" "fuzz-corpus/$t" "${seeds[@]}" 2>&1 | tail -n 12
done
