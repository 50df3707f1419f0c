#!/bin/bash
# Push benchmark (run through tests/with-registries.sh): a 60 MB image
# pushed to a fresh repository each time as
#   A. regpush push, a 4-tag release (vX.Y.Z, vX.Y, vX, latest)
#   B. a loop of 4 skopeo copy calls, one per tag
#   C. a loop of 4 buildah push calls, one per tag (what
#      redhat-actions/push-to-registry does)
#   D. one single-tag skopeo copy
#   E. crane push + 3 x crane tag (go-containerregistry's crane, built
#      from Debian's sources by scripts/crane.sh)
#   F. A again with a signing key (issue 20: the signature goes up
#      before the tags; goal <= 1.05x A)
# on loopback and through the proxy emulating a 20 ms RTT, 400 Mbit/s
# link. Median of N runs each, wall time; prints ratios, the requests and
# round trips of one run of each from the proxy's log, and regpush's
# request timeline. Then the peak RSS of a 300 MB push. Appends its goal
# rows to $BENCH_SUMMARY. Never fails on a time.
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
runs=${BENCH_RUNS:-5}
reg=$REGPUSH_TEST_PLAIN
summary=${BENCH_SUMMARY:-/dev/null}
work=$(mktemp -d /tmp/regpush-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
B=(buildah --root "$work/storage" --runroot "$work/run" --storage-driver vfs)
mkimage() { # mkimage MB -> localhost/bench:MB in $work/storage, and $work/MB.tar
  head -c $(($1 * 1024 * 1024)) /dev/urandom >"$work/blob"
  local c; c=$("${B[@]}" from scratch)
  "${B[@]}" copy "$c" "$work/blob" /blob >/dev/null
  "${B[@]}" commit -q "$c" "localhost/bench:$1" >/dev/null
  "${B[@]}" rm "$c" >/dev/null
  "${B[@]}" push -q "localhost/bench:$1" "oci-archive:$work/$1.tar"
  rm -f "$work/blob"
}
mkimage 60
src=oci-archive:$work/60.tar
"${B[@]}" push -q localhost/bench:60 "oci:$work/layout60"
crane=$REGPUSH_TEST_CRANE
sha=0123456789abcdef0123456789abcdef01234567
echo "image: $(du -h "$work/60.tar" | cut -f1) oci-archive, registry $reg, $runs runs each"

# containers/image remembers where it saw each blob and mounts it from
# there instead of uploading; forget that before every run so each one
# really uploads the 60 MB (the file is only a cache).
forget() { rm -f /var/lib/containers/cache/blob-info-cache-v1.boltdb \
  "${XDG_DATA_HOME:-$HOME/.local/share}/containers/cache/blob-info-cache-v1.boltdb"; }
now() { forget; date +%s.%N; }
# Each function pushes to a fresh repository on registry $1 and prints
# the seconds it took; its start and end are left in $work/last. They
# run in pipelines (subshells), so names come from /dev/urandom.
fresh() { od -An -N6 -tx1 /dev/urandom | tr -d ' \n'; }
time_regpush() {
  local n t0 t1; n=$(fresh)
  t0=$(now)
  TMPDIR=$work "$bin" push --source "$src" --ref refs/tags/v1.2.3 --sha $sha --service "a$n" \
    --prod-registry "$1/bench" --insecure-registry "$1" >/dev/null 2>&1
  t1=$(date +%s.%N); echo "$t0 $t1" >"$work/last"; echo "$t1 - $t0" | bc
}
signkey=$(openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 2>/dev/null)
time_regpush_signed() {
  local n t0 t1; n=$(fresh)
  t0=$(now)
  TMPDIR=$work REGPUSH_SIGNING_KEY=$signkey "$bin" push --source "$src" --ref refs/tags/v1.2.3 \
    --sha $sha --service "f$n" --prod-registry "$1/bench" --insecure-registry "$1" >/dev/null 2>&1
  t1=$(date +%s.%N); echo "$t0 $t1" >"$work/last"; echo "$t1 - $t0" | bc
}
time_skopeo_loop() {
  local n t0 t1 t; n=$(fresh)
  t0=$(now)
  for t in v1.2.3 v1.2 v1 latest; do
    skopeo copy -q --dest-tls-verify=false "$src" "docker://$1/bench/b$n:$t" >/dev/null
  done
  t1=$(date +%s.%N); echo "$t0 $t1" >"$work/last"; echo "$t1 - $t0" | bc
}
time_buildah_loop() {
  local n t0 t1 t; n=$(fresh)
  t0=$(now)
  for t in v1.2.3 v1.2 v1 latest; do
    "${B[@]}" push -q --tls-verify=false localhost/bench:60 "docker://$1/bench/c$n:$t" >/dev/null
  done
  t1=$(date +%s.%N); echo "$t0 $t1" >"$work/last"; echo "$t1 - $t0" | bc
}
time_crane() {
  local n t0 t1 t; n=$(fresh)
  t0=$(now)
  "$crane" push --insecure "$work/layout60" "$1/bench/e$n:v1.2.3" >/dev/null 2>&1
  for t in v1.2 v1 latest; do
    "$crane" tag --insecure "$1/bench/e$n:v1.2.3" "$t" >/dev/null 2>&1
  done
  t1=$(date +%s.%N); echo "$t0 $t1" >"$work/last"; echo "$t1 - $t0" | bc
}
time_single() {
  local n t0 t1; n=$(fresh)
  t0=$(now)
  skopeo copy -q --dest-tls-verify=false "$src" "docker://$1/bench/d$n:v1.2.3" >/dev/null
  t1=$(date +%s.%N); echo "$t0 $t1" >"$work/last"; echo "$t1 - $t0" | bc
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# Requests and round trips of the last run (through the proxy only).
counts() {
  [ "$1" = "$REGPUSH_TEST_SLOW" ] || { echo "-"; return; }
  # shellcheck disable=SC2046
  python3 "$here/timeline.py" "$REGPUSH_TEST_SLOW_LOG" $(cat "$work/last") ${2:-}
}

declare -A T
measure() { # measure LABEL REGISTRY KEY
  local f k
  echo "-- $1"
  for f in regpush regpush_signed skopeo_loop buildah_loop crane single; do
    T[$3.$f]=$(for _ in $(seq "$runs"); do "time_$f" "$2"; done | median)
    T[$3.$f.n]=$(counts "$2" | head -1)
    T[$3.$f.b]=$(counts "$2" --brief)
    [ "$f" = regpush ] && counts "$2" --show >"$work/timeline-$3"
  done
  for f in regpush regpush_signed skopeo_loop buildah_loop crane single; do
    case $f in
      regpush_signed) k="regpush push, the same, signed" ;;
      crane) k="crane push + 3 x crane tag" ;;
      regpush) k="regpush push, 4-tag release" ;; skopeo_loop) k="4 x skopeo copy (one per tag)" ;;
      buildah_loop) k="4 x buildah push (one per tag)" ;; single) k="1 x skopeo copy (single tag)" ;;
    esac
    printf '%-34s %6.2f s  %5.2fx single  %s\n' "$k" "${T[$3.$f]}" \
      "$(echo "${T[$3.$f]} / ${T[$3.single]}" | bc -l)" "${T[$3.$f.n]}"
  done
}
measure "loopback" "$reg" lo
measure "through a 20 ms RTT, 400 Mbit/s link (proxy)" "$REGPUSH_TEST_SLOW" wan
echo "-- regpush's requests through the link (ms from the first request; regpush = its own client, containers = the engine):"
tail -n +2 "$work/timeline-wan"
r() { echo "${T[$1]} / ${T[$2]}" | bc -l; }
{
  printf 'push 60 MB 4-tag release, 20 ms/400 Mbit|%.2f s|1 skopeo copy %.2f s|%.2fx|<= 1.10x\n' \
    "${T[wan.regpush]}" "${T[wan.single]}" "$(r wan.regpush wan.single)"
  printf 'push 60 MB 4-tag release signed, 20 ms/400 Mbit|%.2f s|unsigned %.2f s|%.2fx|<= 1.05x\n' \
    "${T[wan.regpush_signed]}" "${T[wan.regpush]}" "$(r wan.regpush_signed wan.regpush)"
  printf 'push, same, against a per-tag skopeo copy loop|%.2f s|%.2f s|%.2fx|-\n' \
    "${T[wan.regpush]}" "${T[wan.skopeo_loop]}" "$(r wan.regpush wan.skopeo_loop)"
  printf 'push, same, against a per-tag buildah push loop|%.2f s|%.2f s|%.2fx|-\n' \
    "${T[wan.regpush]}" "${T[wan.buildah_loop]}" "$(r wan.regpush wan.buildah_loop)"
  printf 'push, same, against crane push + 3 x crane tag|%.2f s|%.2f s|%.2fx|-\n' \
    "${T[wan.regpush]}" "${T[wan.crane]}" "$(r wan.regpush wan.crane)"
  printf 'push 60 MB 4-tag release, loopback|%.2f s|1 skopeo copy %.2f s|%.2fx|-\n' \
    "${T[lo.regpush]}" "${T[lo.single]}" "$(r lo.regpush lo.single)"
  printf 'push requests / round trips (20 ms link)|%s|1 skopeo copy: %s; buildah loop: %s|-|-\n' \
    "${T[wan.regpush.b]}" "${T[wan.single.b]}" "${T[wan.buildah_loop.b]}"
} >>"$summary"

echo "-- peak RSS of a 300 MB push (loopback)"
mkimage 300
n=$(fresh)
forget
rss=$(TMPDIR=$work python3 "$here/peak_rss.py" "$bin" push --source "oci-archive:$work/300.tar" \
  --ref refs/tags/v1.2.3 --sha $sha --service "r$n" --prod-registry "$reg/bench" --insecure-registry "$reg")
forget
srss=$(python3 "$here/peak_rss.py" skopeo copy -q --dest-tls-verify=false "oci-archive:$work/300.tar" \
  "docker://$reg/bench/s$n:v1.2.3")
echo "regpush push: $rss"
echo "skopeo copy:  $srss"
printf 'peak RSS, 300 MB push: regpush itself|%s MB|skopeo copy %s MB|%.2fx|-\n' "${rss%% *}" "${srss%% *}" \
  "$(echo "${rss%% *} / ${srss%% *}" | bc -l)" >>"$summary"
