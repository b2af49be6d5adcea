#!/usr/bin/env bash
# `cpack -G DEB` of this build, then the package checked as dpkg sees it: its control fields, its files
# under /usr, dpkg's own dry run of installing it on this (Debian) machine, and a real install and removal
# into a root of its own, with the installed binary run.
# Usage: tests/deb_test.sh BUILD_DIR
set -euo pipefail
build=$1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail() { echo "deb_test: $*" >&2; exit 1; }

cpack -G DEB --config "$build/CPackConfig.cmake" -B "$out" >/dev/null
deb=$(ls "$out"/logclf_*_*.deb)
info=$(dpkg-deb --info "$deb")
grep -q '^ Package: logclf$' <<<"$info" || fail "no Package: logclf in $info"
grep -Eq '^ Depends: .*libre2-' <<<"$info" || fail "the dependencies were not found: $info"

files=$(dpkg-deb --contents "$deb" | awk '{print $6}')
for path in ./usr/bin/logclf ./usr/share/man/man1/logclf.1 ./usr/share/bash-completion/completions/logclf \
            ./usr/share/zsh/vendor-completions/_logclf ./usr/lib/systemd/system/logclf-serve.service \
            ./usr/include/logclf/classifier.h; do
  grep -qx "$path" <<<"$files" || fail "$path is not in the package"
done

# Every dependency is a package this Debian machine has, so dpkg would install it here.
if [ "$(id -u)" -eq 0 ]; then
  dpkg --dry-run -i "$deb" >/dev/null || fail "dpkg --dry-run -i refuses the package"
else
  echo "deb_test: SKIPPED dpkg --dry-run -i (needs root)" >&2
fi
# A real `dpkg -i`, into a root of its own with an empty package database (so its dependencies, checked
# against this machine above, are forced there), then the installed binary run, then `dpkg -r`.
root=$out/root
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$root/var/lib/dpkg/triggers"
touch "$root/var/lib/dpkg/status"
as_user=()
[ "$(id -u)" -eq 0 ] || as_user=(--force-not-root)
dpkg --root="$root" "${as_user[@]}" --force-depends -i "$deb" >"$out/dpkg.log" 2>&1 ||
  fail "dpkg -i: $(cat "$out/dpkg.log")"
dpkg --root="$root" -s logclf | grep -qx 'Status: install ok installed' || fail "dpkg does not list logclf as installed"
"$root/usr/bin/logclf" --version | grep -Eqx 'logclf [0-9]+\.[0-9]+\.[0-9]+' || fail "the installed logclf does not run"
grep -qx 'ExecStart=/usr/bin/logclf serve $LOGCLF_SERVE_ARGS' "$root/usr/lib/systemd/system/logclf-serve.service" ||
  fail "the packaged unit does not run /usr/bin/logclf"
dpkg --root="$root" "${as_user[@]}" -r logclf >>"$out/dpkg.log" 2>&1 || fail "dpkg -r: $(cat "$out/dpkg.log")"
[ ! -e "$root/usr/bin/logclf" ] || fail "dpkg -r left /usr/bin/logclf"
echo "deb_test: ok ($(basename "$deb"), $(du -k "$deb" | cut -f1) KiB)"
