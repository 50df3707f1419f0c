#!/bin/bash
# Debian trixie (the current stable release) for the image and the tests,
# without touching this machine's apt sources. Everything it makes is
# cached outside the clone (REGPUSH_CACHE, default /var/cache/regpush),
# keyed by the trixie versions of the packages involved, mmdebstrap's
# version, the mirror and this script, so CI and later sessions reuse it.
# Progress goes to stderr; the result's path is the last line of stdout.
#
#   scripts/trixie.sh versions PKG...   "PKG=VERSION" per line: what trixie
#                                       serves today (a private apt index)
#   scripts/trixie.sh base [bookworm]   a minbase root as a tar (no docs,
#                                       man pages, locales, apt lists):
#                                       the image's BASE; ~1 min cold.
#                                       bookworm: the Dockerfile's build
#                                       stage base (make bench), keyed by
#                                       this machine's own apt index
#   scripts/trixie.sh root NAME PKG...  a root directory with PKG... for
#                                       chroot (dockerd); ~3 min cold
#   scripts/trixie.sh deb PKG           trixie's PKG package file (.deb,
#                                       its dependencies not fetched),
#                                       for a program run from where it
#                                       is unpacked (cosign)
set -euo pipefail

cache=${REGPUSH_CACHE:-/var/cache/regpush}
# REGPUSH_ARCH=arm64: versions and the base for arm64 (make image-arm64;
# running its hooks needs qemu-user in binfmt_misc).
arch=${REGPUSH_ARCH:-amd64}
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
say() { echo "trixie: $*" >&2; }

# The machine's own Debian mirror (deb.debian.org unless configured).
mirror=$(sed -n 's/^URIs: *\([^ ]*debian\)$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1)
[ -n "$mirror" ] || mirror=$(sed -n 's/^deb \(http[^ ]*debian\) .*/\1/p' /etc/apt/sources.list 2>/dev/null | head -1)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian

need() {
  local p missing=""
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
  done
  [ -z "$missing" ] && return
  say "installing:$missing"
  $sudo apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null || true
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -q $missing >/dev/null
}

# A private apt directory for trixie: its own sources, lists and cache.
apt_dir=$cache/trixie-apt-$arch
apt_opts=(-o "Dir::Etc::sourcelist=$apt_dir/sources.list" -o Dir::Etc::sourceparts=/dev/null
          -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache"
          -o "Dir::State::status=$apt_dir/status" -o APT::Architecture=amd64 -o Debug::NoLocking=1)
apt_index() {
  $sudo mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
  echo "deb $mirror trixie main" | $sudo tee "$apt_dir/sources.list" >/dev/null
  [ -f "$apt_dir/status" ] || $sudo touch "$apt_dir/status"
  # Refreshed at most once an hour: the index is 10 MB.
  if [ -z "$(find "$apt_dir/lists" -name '*trixie_InRelease' -mmin -60 2>/dev/null)" ]; then
    $sudo apt-get "${apt_opts[@]}" -q update >/dev/null || { say "apt-get update (trixie) failed"; exit 1; }
  fi
}
versions() {
  local p v
  apt_index
  for p in "$@"; do
    v=$(apt-cache "${apt_opts[@]}" policy "$p" | sed -n 's/^ *Candidate: //p')
    [ -n "$v" ] && [ "$v" != "(none)" ] || { say "trixie has no package $p"; exit 1; }
    echo "$p=$v"
  done
}
key_of() { # key_of PKG... -> 16 hex digits
  { versions "$@"; echo "$arch $mirror"; dpkg-query -W -f='${Version}' mmdebstrap; sha256sum "$0" | cut -d' ' -f1; } |
    sha256sum | cut -c1-16
}
strip=(--dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*'
       --dpkgopt='path-include=/usr/share/locale/locale.alias'
       --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright'
       --dpkgopt='path-exclude=/usr/share/info/*')

case "${1:-}" in
versions)
  shift
  versions "$@"
  ;;
base)
  need mmdebstrap
  suite=${2:-trixie}
  # The key follows the essential set through base-files, libc6 and dpkg.
  case $suite in
    trixie) key=$(key_of base-files libc6 dpkg apt) ;;
    bookworm)
      key=$( { for p in base-files libc6 dpkg apt; do apt-cache policy "$p" | sed -n 's/^ *Candidate: //p'; done
               echo "$mirror"; dpkg-query -W -f='${Version}' mmdebstrap; sha256sum "$0" | cut -d' ' -f1; } |
             sha256sum | cut -c1-16) ;;
    *) echo "usage: $0 base [trixie|bookworm]" >&2; exit 2 ;;
  esac
  a=""
  [ "$arch" = amd64 ] || a=$arch-
  out=$cache/$suite-base-$a$key.tar
  if [ ! -f "$out" ]; then
    say "making the $suite minbase root (key $key)"
    $sudo mkdir -p "$cache"
    tmp=$cache/$suite-base-partial-$$.tar
    rm -f "$tmp"
    mmdebstrap --quiet --variant=minbase --mode=root --arch="$arch" "${strip[@]}" \
      --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/* "$1"/var/log/*' \
      "$suite" "$tmp" "deb $mirror $suite main" >&2
    mv "$tmp" "$out"
  fi
  echo "$out"
  ;;
root)
  [ $# -ge 3 ] || { echo "usage: $0 root NAME PKG..." >&2; exit 2; }
  name=$2
  shift 2
  need mmdebstrap
  pkgs=$(echo "$@" | tr ' ' ',')
  key=$(key_of "$@")
  out=$cache/trixie-root-$name-$key
  if [ ! -f "$out/.complete" ]; then
    say "making the trixie root $name with $pkgs (key $key)"
    $sudo mkdir -p "$cache"
    tmp=$cache/trixie-root-partial-$$
    $sudo rm -rf "$tmp"
    mmdebstrap --quiet --variant=apt --mode=root "${strip[@]}" --include="$pkgs" \
      trixie "$tmp" "deb $mirror trixie main" >&2
    # Versions of what is in the root, for the record.
    chroot "$tmp" dpkg-query -W -f='${Package}=${Version}\n' >"$tmp/VERSIONS"
    touch "$tmp/.complete"
    $sudo rm -rf "$out"
    mv "$tmp" "$out"
  fi
  echo "$out"
  ;;
deb)
  [ $# -eq 2 ] || { echo "usage: $0 deb PKG" >&2; exit 2; }
  v=$(versions "$2" | cut -d= -f2-)
  out=$cache/trixie-debs/$2_$(echo "$v" | tr ':' '%')_$arch.deb
  if [ ! -f "$out" ]; then
    say "downloading trixie's $2 $v"
    $sudo mkdir -p "$cache/trixie-debs"
    tmp=$(mktemp -d "$cache/trixie-debs/partial-XXXXXX")
    (cd "$tmp" && apt-get "${apt_opts[@]}" -o APT::Sandbox::User=root -q download "$2=$v" >/dev/null) ||
      { rm -rf "$tmp"; say "cannot download $2 $v"; exit 1; }
    mv "$tmp"/*.deb "$out"
    rm -rf "$tmp"
  fi
  echo "$out"
  ;;
*)
  echo "usage: $0 versions PKG... | base | root NAME PKG... | deb PKG" >&2
  exit 2
  ;;
esac
