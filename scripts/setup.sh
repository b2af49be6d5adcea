#!/usr/bin/env bash
# Installs every Debian package the build, tests and fuzzers need. Idempotent: skips
# apt entirely when everything is already installed.
set -euo pipefail
pkgs=(
  build-essential cmake ninja-build pkg-config git
  libre2-dev libcli11-dev nlohmann-json3-dev libyaml-cpp-dev
  libcairo2-dev libxxhash-dev libfmt-dev liblbfgs-dev
  libutf8proc-dev libcurl4-openssl-dev libssl-dev libhttp-parser-dev zlib1g-dev
  libcpp-httplib-dev
  librdkafka-dev kcat openjdk-17-jre-headless
  libgtest-dev libgmock-dev libbenchmark-dev libsimde-dev
  clang libclang-rt-14-dev fonts-dejavu-core
  chromium python3-prometheus-client
  libprotobuf-dev protobuf-compiler
  groff-base man-db zsh systemd
  pybind11-dev python3-dev python3-pytest python3-numpy python3-sklearn python3-pandas
  python3-setuptools python3-wheel python3-pip python3-venv
)
# npm builds the web pages of `logclf serve`. Debian's npm conflicts with Node.js's own nodejs package
# (which ships npm), so it is installed only when no npm command exists.
command -v npm >/dev/null 2>&1 || pkgs+=(npm)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  echo "setup: installing ${missing[*]}"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
