#!/bin/bash
# go-containerregistry's crane (and so its registry, `crane registry
# serve`), built offline from Debian trixie's packaged sources the way
# Debian builds Go programs: in a trixie root (scripts/trixie.sh root)
# with golang-go and golang-github-google-go-containerregistry-dev, with
# GOPATH=/usr/share/gocode and modules off. Static (CGO off); it runs on
# bookworm. Cached outside the clone (REGPUSH_CACHE, default
# /var/cache/regpush), keyed by the root's key (package versions) and this
# script. ~30 s of build after a ~3-minute root; the path of the binary is
# the last line of stdout.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cache=${REGPUSH_CACHE:-/var/cache/regpush}
root=$(bash "$here/scripts/trixie.sh" root gobuild golang-go golang-github-google-go-containerregistry-dev | tail -1)
key=$( { basename "$root"; sha256sum "$0" | cut -d' ' -f1; } | sha256sum | cut -c1-16)
out=$cache/crane-$key/crane
if [ ! -x "$out" ]; then
  echo "crane: building from trixie's sources (key $key)" >&2
  mounted=""
  undo() {
    local m
    for m in $mounted; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
  }
  trap undo EXIT
  mountpoint -q "$root/proc" || { mount -t proc proc "$root/proc"; mounted="$root/proc $mounted"; }
  mountpoint -q "$root/dev" || { mount --bind /dev "$root/dev"; mounted="$root/dev $mounted"; }
  rm -rf "$root/tmp/crane-build"
  mkdir -p "$root/tmp/crane-build"
  chroot "$root" env -i PATH=/usr/lib/go/bin:/usr/bin:/bin HOME=/tmp/crane-build \
    GO111MODULE=off GOPATH=/usr/share/gocode CGO_ENABLED=0 GOTOOLCHAIN=local \
    GOCACHE=/tmp/crane-build/cache GOFLAGS=-trimpath \
    sh -c 'cd /tmp/crane-build && go build -o /tmp/crane-build/crane github.com/google/go-containerregistry/cmd/crane' >&2
  undo
  mounted=""
  mkdir -p "$cache/crane-$key"
  cp "$root/tmp/crane-build/crane" "$out.partial"
  rm -rf "$root/tmp/crane-build"
  grep '^golang-github-google-go-containerregistry-dev=\|^golang-go=' "$root/VERSIONS" >"$cache/crane-$key/VERSIONS" || true
  mv "$out.partial" "$out"
fi
echo "$out"
