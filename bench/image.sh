#!/bin/bash
# What a user pays before regpush runs (through tests/with-registries.sh
# and tests/with-docker.sh), side by side in one run:
#   A. main's way, image: Dockerfile: the runner-style cold `docker build`
#      of the Dockerfile (no cache, a fresh clone of HEAD without build/,
#      so the build stage compiles OpenSSL, curl, jansson, libyaml and libsodium),
#      bases imported from mmdebstrap (nothing can be pulled here) and
#      --network host for apt (the engine has no bridge);
#   B. a release's way, image: docker://…@sha256:…: `docker pull` of the
#      released image by digest through the proxy emulating a 20 ms RTT,
#      400 Mbit/s link, plus `docker run … version`; median of N, the image
#      removed before each;
#   C. the image's compressed size (the layers of its manifest).
# Appends its rows to $BENCH_SUMMARY. Never fails on a time.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${BENCH_RUNS:-5}
summary=${BENCH_SUMMARY:-/dev/null}
archive=$root/build/image/regpush.tar
work=$(mktemp -d /tmp/regpush-bench-image.XXXXXX)
trap 'rm -rf "$work"' EXIT

# C, and the image in the plain registry (the proxy reads from there).
size=$(skopeo inspect --raw "oci-archive:$archive" |
       python3 -c 'import json,sys; print(sum(l["size"] for l in json.load(sys.stdin)["layers"]))')
skopeo copy -q --preserve-digests --dest-tls-verify=false "oci-archive:$archive" \
  "docker://$REGPUSH_TEST_PLAIN/bench/regpush:image"
digest=sha256:$(skopeo inspect --raw "oci-archive:$archive" | sha256sum | cut -d' ' -f1)
ref=$REGPUSH_TEST_SLOW/bench/regpush@$digest
echo "image: $((size / 1000000)) MB compressed ($size bytes), $digest"

# B
times=() pulls=() starts=() direct=()
median() { printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p" | xargs printf '%.2f'; }
direct_ref=$REGPUSH_TEST_PLAIN/bench/regpush@$digest
# Every reference goes before each pull: one left behind keeps the layers,
# and the next pull is only a manifest read (until 2026-12-02 the loopback
# pull's reference stayed, and every run but the first was cached).
for _ in $(seq "$runs"); do
  docker rmi -f "$ref" "$direct_ref" >/dev/null 2>&1 || true
  [ -z "$(docker images -q)" ] || { echo "bench/image.sh: an image is still in the engine" >&2; exit 1; }
  t0=$(date +%s.%N)
  docker pull -q "$ref" >/dev/null
  t1=$(date +%s.%N)
  docker run --rm --network host "$ref" version >/dev/null
  t2=$(date +%s.%N)
  times+=("$(echo "$t2 - $t0" | bc)") pulls+=("$(echo "$t1 - $t0" | bc)") starts+=("$(echo "$t2 - $t1" | bc)")
  # The same pull on loopback, without the link: what unpacking costs.
  docker rmi -f "$ref" "$direct_ref" >/dev/null 2>&1 || true
  t0=$(date +%s.%N)
  docker pull -q "$direct_ref" >/dev/null
  t1=$(date +%s.%N)
  direct+=("$(echo "$t1 - $t0" | bc)")
done
docker rmi -f "$ref" "$direct_ref" >/dev/null 2>&1 || true
pull=$(median "${times[@]}")
echo "pull + run through the 20 ms link: median $pull s of ${times[*]}"
echo "  of which: pull $(median "${pulls[@]}") s, docker run $(median "${starts[@]}") s;" \
  "the same pull on loopback $(median "${direct[@]}") s"

# A
docker import - debian:bookworm-slim <"$(bash "$root/scripts/trixie.sh" base bookworm | tail -1)" >/dev/null
docker import - debian:trixie-slim <"$(bash "$root/scripts/trixie.sh" base | tail -1)" >/dev/null
git clone -q "$root" "$work/src"
t0=$(date +%s.%N)
docker build -q --no-cache --network host -t regpush-cold:bench "$work/src" >"$work/build.log" 2>&1 ||
  { tail -n 20 "$work/build.log"; echo "the cold docker build failed"; exit 1; }
t1=$(date +%s.%N)
build=$(echo "$t1 - $t0" | bc | xargs printf '%.0f')
echo "cold docker build of the Dockerfile: $build s"
ratio=$(echo "scale=4; $pull / $build" | bc | xargs printf '%.3f')
{
  echo "before regpush runs: pull by digest + docker run, 20 ms link|$pull s|cold docker build of the Dockerfile $build s|${ratio}x|<= 5 s and <= 0.05x"
  echo "action image, compressed|$((size / 1000000)) MB|bookworm image of 2026-11 144 MB|$(echo "scale=4; $size / 144000000" | bc | xargs printf '%.2f')x|<= 60 MB"
} >>"$summary"
