#!/bin/sh
# Installs the Debian packages regpush needs to build, test and demo, when any
# is missing. Called by make before it builds; safe to run again. Needs root
# (or sudo) only when something is actually missing.
set -eu

need="gcc make pkg-config libcurl4-openssl-dev libjansson-dev libyaml-dev \
libssl-dev libsodium-dev libcriterion-dev tar"
case "${1:-build}" in
  build) ;;
  test) need="$need docker-registry skopeo buildah openssl apache2-utils curl python3 \
python3-yaml valgrind time ca-certificates binutils" ;;
  bench) need="$need docker-registry skopeo buildah openssl apache2-utils curl python3 \
valgrind time hyperfine bc ca-certificates" ;;
  fuzz) need="$need clang libclang-rt-14-dev" ;;
  *) echo "usage: $0 [build|test|bench|fuzz]" >&2; exit 2 ;;
esac

missing=""
for p in $need; do
  st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  case "$st" in
    *"install ok installed"*) ;;
    *) missing="$missing $p" ;;
  esac
done
[ -z "$missing" ] && exit 0

echo "deps: installing:$missing" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
# The package index may be stale or absent on a fresh machine.
$sudo apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null || true
# shellcheck disable=SC2086
$sudo apt-get -o DPkg::Lock::Timeout=600 install -y -q $missing >/dev/null
