#!/bin/bash
# Builds the action image from the Dockerfile with buildah (no Docker
# engine needed) and leaves it as localhost/regpush:latest in buildah's vfs
# store (buildah --storage-driver vfs images).
#
#   1. the debian:bookworm-slim base, made locally: mmdebstrap --variant=
#      minbase from this machine's own apt sources, imported into buildah
#      under that name. The root file system tar is cached outside the
#      clone (REGPUSH_CACHE, default /var/cache/regpush), keyed by the apt
#      sources, mmdebstrap's version and this script;
#   2. buildah bud --isolation chroot --pull-never --layers, with the cache
#      directory mounted so the build stage's `make static` reuses the
#      static libraries scripts/static-deps.sh built.
# Prints the image size and the build time.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cache=${REGPUSH_CACHE:-/var/cache/regpush}
B=(buildah --storage-driver vfs)
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
say() { echo "build-image: $*" >&2; }
t0=$(date +%s)

missing=""
for p in mmdebstrap buildah; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep "install ok installed" >/dev/null || missing="$missing $p"
done
if [ -n "$missing" ]; then
  say "installing:$missing"
  $sudo apt-get update -q >/dev/null || true
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q $missing >/dev/null
fi

# The static libraries first (on the host: cached, and mounted into the
# build stage, where the same script then finds them).
bash "$here/scripts/static-deps.sh" >/dev/null

sources=$(ls /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null | grep -v regpush-src || true)
key=$( { cat $sources 2>/dev/null; dpkg-query -W -f='${Version}' mmdebstrap; sha256sum "$0" | cut -d' ' -f1; } |
       sha256sum | cut -c1-16)
base_tar=$cache/base-bookworm-$key.tar
if [ ! -f "$base_tar" ]; then
  say "making debian:bookworm-slim with mmdebstrap (key $key)"
  $sudo mkdir -p "$cache"
  tmp=$cache/base-partial-$$.tar
  rm -f "$tmp"
  # shellcheck disable=SC2086
  mmdebstrap --quiet --variant=minbase --mode=root \
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-include=/usr/share/locale/locale.alias' \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    bookworm "$tmp" $sources
  mv "$tmp" "$base_tar"
fi
if ! "${B[@]}" inspect --type image "localhost/regpush-base:$key" >/dev/null 2>&1; then
  say "importing the base into buildah's vfs store"
  c=$("${B[@]}" from scratch)
  "${B[@]}" add "$c" "$base_tar" / >/dev/null
  "${B[@]}" config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --cmd '["bash"]' "$c"
  "${B[@]}" commit -q "$c" "localhost/regpush-base:$key" >/dev/null
  "${B[@]}" rm "$c" >/dev/null
fi
"${B[@]}" tag "localhost/regpush-base:$key" docker.io/library/debian:bookworm-slim

say "buildah bud"
"${B[@]}" bud --quiet --layers --pull-never --isolation chroot \
  --volume "$cache:/var/cache/regpush" \
  -t localhost/regpush:latest -f "$here/Dockerfile" "$here" >/dev/null
size=$("${B[@]}" images --format '{{.Size}}' localhost/regpush:latest | head -1)
say "localhost/regpush:latest built in $(( $(date +%s) - t0 )) s, size $size"
