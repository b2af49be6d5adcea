#!/usr/bin/env bash
# Installs what the build needs and builds logclf (Release) into build/; the binary is build/bin/logclf.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release ${LOGCLF_CMAKE_ARGS:-} >/dev/null
cmake --build build
