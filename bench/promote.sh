#!/bin/bash
# Promote benchmark (run through tests/with-registries.sh): a 60 MB and a
# 300 MB image, each in a development repository, promoted to a fresh
# production repository of the same registry through the proxy that adds
# 20 ms of round-trip time:
#   A. regpush promote --from development (mounts + manifest PUTs)
#   B. skopeo copy --all --preserve-digests of the same digest, with the
#      blob-location cache cleared (cold), as a copy-based promotion does
#   C. (60 MB) A with --verify-key of a source regpush signed at push: the
#      gate, and the signature carried (issue 20; goal <= 1.10x A)
# Median of N runs each; prints ratios, each side's requests and round
# trips (proxy log) and regpush's timeline; appends its goal rows to
# $BENCH_SUMMARY. Never fails on a time.
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
summary=${BENCH_SUMMARY:-/dev/null}
runs=${BENCH_RUNS:-5}
reg=$REGPUSH_TEST_SLOW
direct=$REGPUSH_TEST_PLAIN
work=$(mktemp -d /tmp/regpush-bench-promote.XXXXXX)
trap 'rm -rf "$work"' EXIT
B=(buildah --root "$work/storage" --runroot "$work/run" --storage-driver vfs)
sha=0123456789abcdef0123456789abcdef01234567
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/k.pem" 2>/dev/null
openssl pkey -in "$work/k.pem" -pubout -out "$work/k.pub"
forget() { rm -f /var/lib/containers/cache/blob-info-cache-v1.boltdb \
  "${XDG_DATA_HOME:-$HOME/.local/share}/containers/cache/blob-info-cache-v1.boltdb"; }
fresh() { od -An -N6 -tx1 /dev/urandom | tr -d ' \n'; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "registry: $reg (a proxy adding 20 ms of round-trip time), $runs runs each"

for mb in 60 300; do
  head -c $((mb * 1024 * 1024)) /dev/urandom >"$work/blob"
  c=$("${B[@]}" from scratch)
  "${B[@]}" copy "$c" "$work/blob" /blob >/dev/null
  "${B[@]}" config --label "org.opencontainers.image.revision=$sha" "$c"
  "${B[@]}" commit -q "$c" "localhost/bench:$mb" >/dev/null
  "${B[@]}" push -q "localhost/bench:$mb" "oci-archive:$work/$mb.tar"
  rm -f "$work/blob"
  svc=p$mb$(fresh)
  # The development image, pushed directly (not timed).
  skopeo copy -q --dest-tls-verify=false "oci-archive:$work/$mb.tar" "docker://$direct/bdev/$svc:dev-0123456"
  d=$(skopeo inspect --raw "oci-archive:$work/$mb.tar" | sha256sum | cut -d' ' -f1)
  time_promote() {
    local t0 t1 p; p=bprod$(fresh)
    t0=$(date +%s.%N)
    TMPDIR=$work "$bin" promote --from development --ref refs/tags/v1.0.0 --sha $sha --service "$svc" \
      --dev-registry "$reg/bdev" --prod-registry "$reg/$p" --insecure-registry "$reg" >/dev/null 2>&1
    t1=$(date +%s.%N); echo "$t0 $t1" >"$work/last"; echo "$t1 - $t0" | bc
  }
  time_copy() {
    local t0 t1 p; p=bcopy$(fresh); forget
    t0=$(date +%s.%N)
    skopeo copy -q --all --preserve-digests --src-tls-verify=false --dest-tls-verify=false \
      "docker://$reg/bdev/$svc@sha256:$d" "docker://$reg/$p/$svc:v1.0.0" >/dev/null
    t1=$(date +%s.%N); echo "$t0 $t1" >"$work/last"; echo "$t1 - $t0" | bc
  }
  time_crane() {
    local t0 t1 p; p=bcrane$(fresh)
    t0=$(date +%s.%N)
    "$REGPUSH_TEST_CRANE" copy --insecure "$reg/bdev/$svc@sha256:$d" "$reg/$p/$svc:v1.0.0" >/dev/null 2>&1
    t1=$(date +%s.%N); echo "$t0 $t1" >"$work/last"; echo "$t1 - $t0" | bc
  }
  time_promote_verified() {
    local t0 t1 p; p=bprodv$(fresh)
    t0=$(date +%s.%N)
    TMPDIR=$work "$bin" promote --from development --ref refs/tags/v1.0.0 --sha $sha --service "s$svc" \
      --dev-registry "$reg/bdev" --prod-registry "$reg/$p" --insecure-registry "$reg" \
      --verify-key "$work/k.pub" >/dev/null 2>&1
    t1=$(date +%s.%N); echo "$t0 $t1" >"$work/last"; echo "$t1 - $t0" | bc
  }
  A=$(for _ in $(seq "$runs"); do time_promote; done | median)
  NA=$(python3 "$here/timeline.py" "$REGPUSH_TEST_SLOW_LOG" $(cat "$work/last"))
  [ "$mb" = 60 ] && python3 "$here/timeline.py" "$REGPUSH_TEST_SLOW_LOG" $(cat "$work/last") --show \
    >"$work/timeline"
  C=$(for _ in $(seq "$runs"); do time_copy; done | median)
  NC=$(python3 "$here/timeline.py" "$REGPUSH_TEST_SLOW_LOG" $(cat "$work/last"))
  K=$(for _ in $(seq "$runs"); do time_crane; done | median)
  NK=$(python3 "$here/timeline.py" "$REGPUSH_TEST_SLOW_LOG" $(cat "$work/last"))
  printf '%4d MB: regpush promote %6.2f s (%s), skopeo copy (cold) %6.2f s (%s): %.2fx; crane copy %6.2f s (%s): %.2fx\n' "$mb" "$A" \
    "$NA" "$C" "$NC" "$(echo "$A / $C" | bc -l)" "$K" "$NK" "$(echo "$A / $K" | bc -l)"
  if [ "$mb" = 60 ]; then
    # The same image signed at push (not timed), through the link, so the
    # signature names the repository as promote reads it.
    REGPUSH_SIGNING_KEY=$(cat "$work/k.pem") TMPDIR=$work "$bin" push --source "oci-archive:$work/$mb.tar" \
      --ref refs/heads/main --sha $sha --service "s$svc" --dev-registry "$reg/bdev" \
      --insecure-registry "$reg" >/dev/null 2>&1
    V=$(for _ in $(seq "$runs"); do time_promote_verified; done | median)
    NV=$(python3 "$here/timeline.py" "$REGPUSH_TEST_SLOW_LOG" $(cat "$work/last"))
    printf '  60 MB: regpush promote --verify-key (signed source, carried) %6.2f s (%s): %.2fx unsigned\n' \
      "$V" "$NV" "$(echo "$V / $A" | bc -l)"
    printf 'promote 60 MB verified and carried, 20 ms/400 Mbit|%.2f s|unsigned %.2f s|%.2fx|<= 1.10x\n' \
      "$V" "$A" "$(echo "$V / $A" | bc -l)" >>"$summary"
  fi
  printf 'promote %d MB, same host, against crane copy|%.2f s|crane copy %.2f s|%.2fx|-\n' \
    "$mb" "$A" "$K" "$(echo "$A / $K" | bc -l)" >>"$summary"
  printf 'promote %d MB, same host, 20 ms/400 Mbit|%.2f s|skopeo copy (cold) %.2f s|%.2fx|<= 0.2x\n' \
    "$mb" "$A" "$C" "$(echo "$A / $C" | bc -l)" >>"$summary"
  [ "$mb" = 60 ] && printf 'promote requests / round trips|%s|%s|-|-\n' \
    "$(echo "$NA" | sed 's/ (regpush [0-9]*, engine [0-9]*)//; s/ (regpush [0-9]*)//; s/, [0-9.]* s$//')" \
    "$(echo "$NC" | sed 's/ (regpush [0-9]*, engine [0-9]*)//; s/ (regpush [0-9]*)//; s/, [0-9.]* s$//')" >>"$summary"
done
echo "-- regpush promote (60 MB), requests through the link (ms from the first request):"
tail -n +2 "$work/timeline"
