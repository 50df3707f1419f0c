#!/bin/bash
# make image-arm64 (outside make test): the arm64 static regpush and the
# arm64 action image, on this x86-64 machine, under qemu-user.
#
#   1. qemu-aarch64-static registered in binfmt_misc with the F flag (so
#      it works inside chroots); binfmt_misc is mounted first if it is not,
#      and whatever this script registered or mounted is undone at exit;
#   2. an arm64 Debian bookworm root with the build tools and the same apt
#      sources (deb and deb-src) as this machine: mmdebstrap --arch=arm64,
#      cached in /var/cache/regpush keyed by the sources, the tools and
#      this script;
#   3. `make static` in that root (scripts/static-deps.sh builds the musl
#      libraries from bookworm's sources for aarch64, cached as for
#      x86-64; cold, under emulation, expect tens of minutes), in a mount
#      namespace of its own with the cache bound in: no mount outlives it;
#   4. the image: scripts/build-image.sh with REGPUSH_ARCH=arm64 (an arm64
#      trixie base, skopeo installed under qemu) ->
#      build/image/regpush-arm64.tar.
# The binary lands in build/arm64/regpush, checked to be a static aarch64
# ELF that runs (under qemu) and prints its version.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cache=${REGPUSH_CACHE:-/var/cache/regpush}
say() { echo "build-arm64: $*" >&2; }
[ "$(id -u)" -eq 0 ] || { say "needs root (binfmt_misc, mmdebstrap, chroot)"; exit 1; }

for p in qemu-user-static mmdebstrap file; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || {
    say "installing $p"
    apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null || true
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "$p" >/dev/null
  }
done

bf=/proc/sys/fs/binfmt_misc
mounted="" registered=""
undo() {
  [ -z "$registered" ] || echo -1 >"$bf/qemu-aarch64" || true
  [ -z "$mounted" ] || umount "$bf" || true
}
trap undo EXIT
trap 'exit 130' INT TERM
if [ ! -e "$bf/register" ]; then
  mount -t binfmt_misc binfmt_misc "$bf" || { say "cannot mount binfmt_misc on $bf"; exit 1; }
  mounted=1
fi
if [ ! -e "$bf/qemu-aarch64" ]; then
  # The kernel reads the \x escapes itself.
  printf '%s' ':qemu-aarch64:M::\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00:\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff:/usr/bin/qemu-aarch64-static:F' \
    >"$bf/register" || { say "cannot register qemu-aarch64 in binfmt_misc"; exit 1; }
  registered=1
fi

# The machine's own apt sources as one-line entries, deb and deb-src.
lines=()
while read -r uri suites; do
  for s in $suites; do
    lines+=("deb $uri $s main" "deb-src $uri $s main")
  done
done < <(for f in /etc/apt/sources.list.d/*.sources; do
           case $f in */regpush-src-*) continue ;; esac
           [ -f "$f" ] && awk '/^URIs:/ {u=$2} /^Suites:/ {$1=""; print u, $0}' "$f"
         done)
[ ${#lines[@]} -gt 0 ] || lines=("deb http://deb.debian.org/debian bookworm main"
                                 "deb-src http://deb.debian.org/debian bookworm main")
tools=gcc,make,musl-tools,dpkg-dev,autoconf,automake,libtool,quilt,linux-libc-dev,pkg-config,binutils,ca-certificates,file
key=$( { printf '%s\n' "${lines[@]}"; echo "$tools"; dpkg-query -W -f='${Version}' mmdebstrap;
         sha256sum "$0" | cut -d' ' -f1; } | sha256sum | cut -c1-16)
root=$cache/bookworm-root-arm64-$key
if [ ! -f "$root/.complete" ]; then
  say "making the arm64 bookworm build root (key $key; several minutes under emulation)"
  tmp=$cache/bookworm-root-arm64-partial-$$
  rm -rf "$tmp"
  mkdir -p "$cache"
  mmdebstrap --quiet --variant=apt --mode=root --arch=arm64 --include="$tools" \
    bookworm "$tmp" "${lines[@]}" >&2
  touch "$tmp/.complete"
  rm -rf "$root"
  mv "$tmp" "$root"
fi

say "make static in the arm64 root"
rm -rf "$root/src"
mkdir -p "$root/src" "$root/var/cache/regpush"
tar -C "$here" --exclude=./build --exclude=./build-asan --exclude=./build-fuzz --exclude=./.git -cf - . |
  tar -C "$root/src" -xf -
t0=$(date +%s)
unshare --mount --propagation private -- bash -c '
  set -e
  root=$1 cache=$2
  mount --bind "$cache" "$root/var/cache/regpush"
  mount -t proc proc "$root/proc"
  mount --rbind /dev "$root/dev"
  exec chroot "$root" sh -c "cd /src && make --no-print-directory static"
' build-arm64 "$root" "$cache" >&2
mkdir -p "$here/build/arm64"
cp "$root/src/build/static/regpush" "$here/build/arm64/regpush"
rm -rf "$root/src"
f=$(file -b "$here/build/arm64/regpush")
case $f in *"ARM aarch64"*"statically linked"*) ;; *) say "not a static aarch64 binary: $f"; exit 1 ;; esac
say "build/arm64/regpush: $f ($(( $(date +%s) - t0 )) s); runs: $("$here/build/arm64/regpush" version)"

REGPUSH_ARCH=arm64 bash "$here/scripts/build-image.sh"
