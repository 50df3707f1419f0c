#!/bin/bash
# cosign, the signing oracle of the tests: Debian trixie's package (a Go
# program that needs only libc, so it runs on bookworm), unpacked from its
# .deb (scripts/trixie.sh deb) and cached outside the clone
# (REGPUSH_CACHE, default /var/cache/regpush), keyed by its version and
# this script. The path of the binary is the last line of stdout.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cache=${REGPUSH_CACHE:-/var/cache/regpush}
deb=$(bash "$here/scripts/trixie.sh" deb cosign | tail -1)
key=$( { basename "$deb"; sha256sum "$0" | cut -d' ' -f1; } | sha256sum | cut -c1-16)
out=$cache/cosign-$key/cosign
if [ ! -x "$out" ]; then
  echo "cosign: unpacking $(basename "$deb") (key $key)" >&2
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  dpkg-deb -x "$deb" "$tmp"
  "$tmp/usr/bin/cosign" version >/dev/null 2>&1 ||
    { echo "cosign: the unpacked binary does not run here" >&2; exit 1; }
  mkdir -p "$cache/cosign-$key"
  cp "$tmp/usr/bin/cosign" "$out.partial"
  basename "$deb" >"$cache/cosign-$key/VERSION"
  mv "$out.partial" "$out"
fi
echo "$out"
