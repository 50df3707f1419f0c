#!/bin/bash
# Builds the action image from the Dockerfile with buildah (no Docker
# engine needed) and writes it as an OCI archive, build/image/regpush.tar
# (the form scripts/release.sh pushes); it also stays in buildah's vfs
# store as localhost/regpush:latest.
#
#   1. the base: Debian trixie made locally with mmdebstrap (scripts/
#      trixie.sh base, cached outside the clone), imported into buildah and
#      passed as BASE (and BUILD_BASE: the build stage only copies the
#      binary);
#   2. the binary: build/static/regpush, which `make static` built (make
#      image depends on it) and `make test-static` tests, in the context;
#   3. skopeo and ca-certificates pinned to trixie's current versions
#      (scripts/trixie.sh versions), which also label the image;
#   4. buildah bud --isolation chroot --pull-never, the revision label
#      from git.
# Prints the image's compressed size (the sum of its layers in the
# archive) and the build time.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
# REGPUSH_ARCH=arm64 (make image-arm64): the arm64 binary that
# scripts/build-arm64.sh built, an arm64 trixie base, RUN under qemu-user.
arch=${REGPUSH_ARCH:-amd64}
export REGPUSH_ARCH=$arch
if [ "$arch" = amd64 ]; then
  bin=$here/build/static/regpush
  out=${REGPUSH_IMAGE_ARCHIVE:-$here/build/image/regpush.tar}
  tag=localhost/regpush:latest
else
  bin=$here/build/$arch/regpush
  out=${REGPUSH_IMAGE_ARCHIVE:-$here/build/image/regpush-$arch.tar}
  tag=localhost/regpush:latest-$arch
fi
B=(buildah --storage-driver vfs)
say() { echo "build-image: $*" >&2; }
t0=$(date +%s)

[ -x "$bin" ] || { say "$bin is missing: run make static (make image-arm64 for arm64)"; exit 1; }
missing=""
for p in buildah skopeo python3 git; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  say "installing:$missing"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null || true
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -q $missing >/dev/null
fi

base_tar=$(bash "$here/scripts/trixie.sh" base | tail -1)
key=$(basename "$base_tar" .tar)
key=${key#trixie-base-}
base=localhost/regpush-base:trixie-$key
if ! "${B[@]}" inspect --type image "$base" >/dev/null 2>&1; then
  say "importing the trixie base into buildah's vfs store"
  c=$("${B[@]}" from scratch)
  "${B[@]}" add "$c" "$base_tar" / >/dev/null
  "${B[@]}" config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --cmd '["bash"]' "$c"
  "${B[@]}" config --arch "$arch" --os linux "$c"
  "${B[@]}" commit -q "$c" "$base" >/dev/null
  "${B[@]}" rm "$c" >/dev/null
fi

pins=$(bash "$here/scripts/trixie.sh" versions skopeo ca-certificates)
skopeo_v=$(echo "$pins" | sed -n 's/^skopeo=//p')
ca_v=$(echo "$pins" | sed -n 's/^ca-certificates=//p')
rev=$(git -C "$here" rev-parse HEAD 2>/dev/null || echo unknown)
version=$("$here/build/static/regpush" version | sed 's/^regpush //')
# The context: the repository, or for another architecture a copy whose
# build/static/regpush is that architecture's binary.
ctx=$here
if [ "$arch" != amd64 ]; then
  ctx=$(mktemp -d)
  trap 'rm -rf "$ctx"' EXIT
  cp -r "$here/Dockerfile" "$here/.dockerignore" "$here/docker" "$ctx/"
  mkdir -p "$ctx/build/static"
  cp "$bin" "$ctx/build/static/regpush"
fi

say "buildah bud (base $base, skopeo $skopeo_v)"
"${B[@]}" bud --quiet --pull-never --isolation chroot --arch "$arch" \
  --build-arg "BASE=$base" --build-arg "BUILD_BASE=$base" \
  --build-arg "SKOPEO_VERSION=$skopeo_v" --build-arg "CA_VERSION=$ca_v" \
  --build-arg "REVISION=$rev" --build-arg "VERSION=$version" \
  -t "$tag" -f "$ctx/Dockerfile" "$ctx" >/dev/null
mkdir -p "$(dirname "$out")"
rm -f "$out.partial"
"${B[@]}" push -q "$tag" "oci-archive:$out.partial:regpush" >/dev/null
mv "$out.partial" "$out"
size=$(skopeo inspect --raw "oci-archive:$out" |
       python3 -c 'import json,sys; m=json.load(sys.stdin); print(sum(l["size"] for l in m["layers"]))')
say "$out built in $(( $(date +%s) - t0 )) s: $(( size / 1000000 )) MB compressed ($size bytes)"
