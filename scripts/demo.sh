#!/usr/bin/env bash
# Sets up, builds, and classifies the bundled example file with the built-in default model.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
build/bin/logclf classify examples/example.csv --explain
