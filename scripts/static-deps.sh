#!/bin/bash
# Builds the static musl libraries that `make static` links — OpenSSL 3.0,
# curl (HTTP and HTTPS only), jansson, libyaml and libsodium (for cosign's
# key format) — from Debian bookworm's own source packages, with musl-gcc,
# into one install prefix, and prints that prefix on its last line of
# stdout.
#
# The prefix is cached outside the clone (REGPUSH_CACHE, default
# /var/cache/regpush), keyed by the five source versions, this script and
# the compiler, so CI and later builds reuse it: a hit costs seconds, a
# cold build about 6 minutes on 2 cores. Progress goes to stderr.
#
#   scripts/static-deps.sh            build if needed, print the prefix
#   scripts/static-deps.sh --key      print the cache key only
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${REGPUSH_CACHE:-/var/cache/regpush}
srcs="openssl curl jansson libyaml libsodium"
tools="gcc musl-tools dpkg-dev autoconf automake libtool quilt linux-libc-dev pkg-config make"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
say() { echo "static-deps: $*" >&2; }

missing=""
for p in $tools; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  say "installing:$missing"
  $sudo apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null || true
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -q $missing >/dev/null
fi

# Source packages need deb-src lines: made from the machine's own sources.
if ! apt-cache showsrc --only-source curl 2>/dev/null | grep '^Version:' >/dev/null; then
  say "adding deb-src entries from the machine's apt sources"
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    case $f in */regpush-src-*) continue ;; esac
    sed 's/^Types:.*/Types: deb-src/' "$f" | $sudo tee "/etc/apt/sources.list.d/regpush-src-$(basename "$f")" >/dev/null
  done
  if [ -f /etc/apt/sources.list ]; then
    sed -n 's/^deb /deb-src /p' /etc/apt/sources.list | $sudo tee /etc/apt/sources.list.d/regpush-src.list >/dev/null
  fi
  $sudo apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null
fi

# Every version of each source package the apt sources list, newest first:
# the build takes the newest one the mirror really serves (a security
# archive may list a version whose files it lacks), so the key is the list.
versions=""
for s in $srcs; do
  v=$(apt-cache showsrc --only-source "$s" | sed -n 's/^Version: //p' | sort -rV | tr '\n' ' ')
  [ -n "$v" ] || { say "no source package $s"; exit 1; }
  versions="$versions $s=[${v% }]"
done
# The machine's architecture: x86-64, or arm64 (make image-arm64 runs
# this in an arm64 root under qemu-user).
case $(uname -m) in
  x86_64) ossl_target=linux-x86_64 arch_cflags="" ;;
  # Debian's aarch64 gcc emits outline atomics, whose libgcc helper
  # (lse-init.o) calls glibc's __getauxval, which musl lacks.
  aarch64) ossl_target=linux-aarch64 arch_cflags=-mno-outline-atomics ;;
  *) say "unsupported architecture $(uname -m)"; exit 1 ;;
esac
multiarch=$(gcc -dumpmachine)
key=$( { echo "$versions"; uname -m; sha256sum "$0" | cut -d' ' -f1; musl-gcc --version | head -1;
         dpkg-query -W -f='${Version}' musl-tools; } | sha256sum | cut -c1-16)
if [ "${1:-}" = "--key" ]; then echo "$key"; exit 0; fi
prefix=$cache/static-$key
if [ -f "$prefix/.complete" ]; then
  say "cached: $(tr '\n' ' ' <"$prefix/VERSIONS")-> $prefix"
  echo "$prefix"
  exit 0
fi

say "building (key $key) -> $prefix"
$sudo mkdir -p "$cache"
work=$(mktemp -d /tmp/regpush-static.XXXXXX)
trap 'rm -rf "$work"' EXIT
stage=$work/prefix
mkdir -p "$stage"
export CC=musl-gcc PKG_CONFIG_LIBDIR=$stage/lib/pkgconfig PKG_CONFIG_PATH=
# Kernel headers for OpenSSL (linux/mman.h), without glibc's own headers.
mkdir -p "$work/kh"
ln -s /usr/include/linux /usr/include/asm-generic "$work/kh/"
ln -s "/usr/include/$multiarch/asm" "$work/kh/asm"
fetch() {
  local v
  for v in $(apt-cache showsrc --only-source "$1" | sed -n 's/^Version: //p' | sort -rV); do
    if (cd "$work" && apt-get source -q "$1=$v" >/dev/null 2>&1); then
      echo "$1=$v" >>"$stage/VERSIONS"
      find "$work" -maxdepth 1 -mindepth 1 -type d -name "$1-*" | head -1
      return
    fi
    say "$1 $v: not served by the mirror, trying an older version"
    rm -rf "${work:?}/$1"*
  done
  say "apt-get source $1 failed for every version"; exit 1
}
t0=$(date +%s)
# The libraries' own compiler warnings go to a log, shown when a step fails.
log=$work/build.log
failed() {
  tail -40 "$log" >&2
  # The whole log, and a configure step's config.log, outlive the work
  # directory.
  $sudo mkdir -p "$cache"
  { cat "$log"; find "$work" -name config.log -newer "$stage" -exec cat {} + 2>/dev/null; } |
    $sudo tee "$cache/static-$key-failed.log" >/dev/null || true
  say "building $1 failed (the log's end is above; all of it in $cache/static-$key-failed.log)"
  exit 1
}

d=$(fetch openssl)
say "openssl: $(basename "$d")"
(cd "$d" && ./Configure "$ossl_target" $arch_cflags no-shared no-tests no-engine no-dso no-async \
   --prefix="$stage" --libdir=lib --openssldir=/usr/lib/ssl -idirafter "$work/kh" >/dev/null &&
 make -j2 build_libs >/dev/null && make install_dev >/dev/null) 2>>"$log" || failed openssl

d=$(fetch curl)
say "curl: $(basename "$d")"
(cd "$d" &&
 # Debian's last two patches rename the library for its GnuTLS and NSS
 # flavours; debian/rules pops them too.
 export QUILT_PATCHES=debian/patches &&
 while top=$(quilt top 2>/dev/null); do
   case $top in *90_gnutls*|*99_nss*) quilt pop -q >/dev/null ;; *) break ;; esac
 done &&
 autoreconf -fi >/dev/null 2>&1 &&
 ./configure -q CFLAGS="-O2 $arch_cflags" --disable-shared --enable-static --prefix="$stage" --with-openssl="$stage" \
   --without-zlib --without-brotli --without-zstd --without-libpsl --without-libidn2 \
   --without-nghttp2 --without-ngtcp2 --without-nghttp3 --without-librtmp --without-libssh2 \
   --without-libssh --without-libgsasl --without-hyper --disable-ldap --disable-ldaps \
   --disable-rtsp --disable-dict --disable-telnet --disable-tftp --disable-pop3 --disable-imap \
   --disable-smtp --disable-gopher --disable-mqtt --disable-smb --disable-ftp --disable-file \
   --disable-manual --disable-ntlm --disable-ntlm-wb --disable-tls-srp --disable-alt-svc \
   --disable-hsts --disable-cookies --disable-netrc --disable-mime --disable-doh \
   --disable-websockets --enable-threaded-resolver --enable-ipv6 \
   --with-ca-bundle=/etc/ssl/certs/ca-certificates.crt --without-ca-path >/dev/null &&
 make -j2 -C lib >/dev/null && make -C lib install >/dev/null && make -C include install >/dev/null &&
 make install-pkgconfigDATA >/dev/null) 2>>"$log" || failed curl

for s in jansson libyaml libsodium; do
  d=$(fetch "$s")
  say "$s: $(basename "$d")"
  (cd "$d" && autoreconf -fi >/dev/null 2>&1 &&
   ./configure -q CFLAGS="-O2 $arch_cflags" --disable-shared --enable-static --prefix="$stage" >/dev/null &&
   make -j2 >/dev/null && make install >/dev/null) 2>>"$log" || failed "$s"
done

for f in libssl.a libcrypto.a libcurl.a libjansson.a libyaml.a libsodium.a; do
  [ -f "$stage/lib/$f" ] || { say "missing $f after the build"; exit 1; }
done
# The .pc files name the prefix relative to themselves, so the prefix can
# be moved or mounted elsewhere (the image build mounts the cache at
# /var/cache/regpush whatever REGPUSH_CACHE is on the host).
sed -i "s|$stage|\${pcfiledir}/../..|g" "$stage"/lib/pkgconfig/*.pc
touch "$stage/.complete"
$sudo rm -rf "$prefix"
$sudo cp -a "$stage" "$prefix"
say "built in $(( $(date +%s) - t0 )) s: $(du -sh "$prefix" | cut -f1) in $prefix"
echo "$prefix"
