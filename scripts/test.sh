#!/usr/bin/env bash
# Sets up, builds and runs every test: a Release build with warnings as errors, then the same suite
# under AddressSanitizer + UndefinedBehaviorSanitizer (skip that part with LOGCLF_SKIP_SANITIZE=1).
set -euo pipefail
cd "$(dirname "$0")/.."
LOGCLF_CMAKE_ARGS="-DLOGCLF_WERROR=ON" bash scripts/build.sh
# CMake's default generator (Unix Makefiles) runs custom commands unlike Ninja: configure a throwaway build
# directory with it and run the build's custom commands (npm ci, the web assets), seconds rather than a
# second full build.
makefiles_build=$(mktemp -d)
trap 'rm -rf "$makefiles_build"' EXIT
cmake -S . -B "$makefiles_build" -G "Unix Makefiles" -DLOGCLF_TESTS=OFF >/dev/null
cmake --build "$makefiles_build" --target logclf_web_assets
rm -rf "$makefiles_build"
ctest --test-dir build --output-on-failure -j2
if [ "${LOGCLF_SKIP_SANITIZE:-0}" != 1 ]; then
  # -O1 -g1: sanitizer reports keep file:line while the build stays quick.
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" \
    -DLOGCLF_SANITIZE=ON -DLOGCLF_WERROR=ON >/dev/null
  cmake --build build-asan
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j2
fi

# The Python package (python/) against the Release build above: its module is build/python/logclf.
# /usr/bin/python3 is Debian's, which the module is built for and scripts/setup.sh installs pytest into.
echo "== Python tests (tests/python) =="
/usr/bin/python3 -m pytest -q -rs -p no:cacheprovider tests/python
