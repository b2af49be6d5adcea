#!/usr/bin/env bash
# `cmake --install` into a fresh prefix, then what each installed piece must do: the binary runs, the manual
# page renders without a warning, the bash completion completes verbs, subcommands and options, the zsh one
# parses, the systemd unit verifies with a low exposure score and names the installed binary, the public
# headers are there, and find_package(logclf) builds a program that classifies.
# Usage: tests/install_test.sh BUILD_DIR
set -euo pipefail
build=$1
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
fail() { echo "install_test: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$prefix" >/dev/null

"$prefix/bin/logclf" --version | grep -Eqx 'logclf [0-9]+\.[0-9]+\.[0-9]+' || fail "logclf --version"

page=$prefix/share/man/man1/logclf.1
warnings=$(groff -man -Tutf8 -ww "$page" 2>&1 >/dev/null)
[ -z "$warnings" ] || fail "the manual page has roff warnings: $warnings"
rendered=$(MANWIDTH=100 man -l "$page" 2>/dev/null)
for section in NAME SYNOPSIS COMMANDS SIGNALS ENVIRONMENT "EXIT STATUS"; do
  grep -q "^$section" <<<"$rendered" || fail "the manual page has no $section section"
done
grep -q -- '--access-log' <<<"$rendered" || fail "the manual page does not list serve --access-log"

# shellcheck disable=SC1091
source "$prefix/share/bash-completion/completions/logclf"
complete_words() {  # the completions of the last word of "$@"
  COMP_WORDS=("$@")
  COMP_CWORD=$(($# - 1))
  COMPREPLY=()
  _logclf
  echo "${COMPREPLY[*]}"
}
[[ " $(complete_words logclf clas) " == *" classify "* ]] || fail "bash: 'clas' does not complete to classify"
[[ " $(complete_words logclf rules t) " == *" test "* ]] || fail "bash: 'rules t' does not complete to test"
[ "$(complete_words logclf serve --access)" = "--access-log" ] || fail "bash: 'serve --access' does not complete"
[ "$(complete_words logclf classify -m model.d --expl)" = "--explain" ] || fail "bash: 'classify ... --expl'"
[[ " $(complete_words logclf bench "") " == *" encoder "* ]] || fail "bash: 'bench' does not offer encoder"

if command -v zsh >/dev/null; then
  zsh -n "$prefix/share/zsh/vendor-completions/_logclf" || fail "zsh: the completion does not parse"
else
  echo "install_test: SKIPPED the zsh completion check: zsh is not installed" >&2
fi

unit=$prefix/lib/systemd/system/logclf-serve.service
grep -qx "ExecStart=$prefix/bin/logclf serve \$LOGCLF_SERVE_ARGS" "$unit" || fail "the unit does not run $prefix/bin/logclf"
if command -v systemd-analyze >/dev/null; then
  problems=$(systemd-analyze verify --man=no "$unit" 2>&1) || fail "systemd-analyze verify: $problems"
  [ -z "$problems" ] || fail "systemd-analyze verify: $problems"
  systemd-analyze security --offline=true --threshold=20 "$unit" >/dev/null ||
    fail "the unit's exposure is above 2.0: $(systemd-analyze security --offline=true "$unit" | tail -1)"
else
  echo "install_test: SKIPPED the systemd unit checks: systemd-analyze is not installed" >&2
fi

for header in classifier.h server.h train.h types.h; do
  [ -f "$prefix/include/logclf/$header" ] || fail "include/logclf/$header is not installed"
done

# find_package(logclf) from another project: a ten-line program that classifies, against logclf::core, and
# one that evaluates, against logclf::logclf (the tools: training, evaluation, heatmap, download).
consumer=$prefix/consumer
mkdir "$consumer"
cat >"$consumer/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.20)
project(consumer CXX)
set(CMAKE_CXX_STANDARD 20)
find_package(logclf 0.1 REQUIRED)
add_executable(classify classify.cc)
target_link_libraries(classify PRIVATE logclf::core)
add_executable(evaluate evaluate.cc)
target_link_libraries(evaluate PRIVATE logclf::logclf)
CMAKE
cat >"$consumer/classify.cc" <<'CXX'
#include <cstdio>
#include <string>

#include <logclf/classifier.h>

int main(int argc, char** argv) {
  const logclf::Classifier classifier = logclf::Classifier::load_default();
  for (int i = 1; i < argc; ++i) {
    const logclf::Prediction p = classifier.classify(argv[i]);
    std::printf("%s|%s\n", p.label.c_str(), std::string(logclf::to_string(p.stage)).c_str());
  }
}
CXX
cat >"$consumer/evaluate.cc" <<'CXX'
#include <cstdio>
#include <vector>

#include <logclf/evaluation.h>

int main() {
  const logclf::Classifier classifier = logclf::Classifier::load_default();
  const std::vector<logclf::LabeledLine> data = {{"User User1 logged in.", "", "User Action"},
                                                 {"Disk usage at 97% on /var", "", "Security Alert"}};
  std::printf("%.2f\n", logclf::evaluate(classifier, data).hybrid.accuracy());
}
CXX
flags=""  # a sanitized build's library needs the sanitizers' runtime in the program too
grep -q '^LOGCLF_SANITIZE:BOOL=ON' "$build/CMakeCache.txt" && flags="-fsanitize=address,undefined"
cmake -S "$consumer" -B "$consumer/build" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_CXX_FLAGS="$flags" \
  >"$consumer/log" 2>&1 || fail "find_package(logclf) failed: $(cat "$consumer/log")"
cmake --build "$consumer/build" >>"$consumer/log" 2>&1 || fail "the programs do not build: $(cat "$consumer/log")"
answers=$("$consumer/build/classify" "User User1 logged in." "Disk usage at 97% on /var")
[ "$answers" = $'User Action|rule\nResource Usage|model' ] || fail "the classifying program answers: $answers"
# What the classifying program is linked with (a static library's unused members never reach a program,
# so its link line, not its NEEDED entries, shows what logclf::core requires).
link=$(ninja -C "$consumer/build" -t commands classify | tail -1)
grep -q 'libre2' <<<"$link" || fail "the classifying program is not linked with RE2: $link"
if grep -Eq 'cairo|curl|libssl|libcrypto' <<<"$link"; then
  fail "a program on logclf::core is linked with a tool's library: $link"
fi
accuracy=$("$consumer/build/evaluate")
[ "$accuracy" = "0.50" ] || fail "the evaluating program's accuracy: $accuracy"
echo "install_test: ok"
