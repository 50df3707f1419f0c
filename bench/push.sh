#!/bin/bash
# Push benchmark (run through tests/with-registries.sh): a 60 MB image
# pushed to a fresh repository each time as
#   A. regpush push, a 4-tag release (vX.Y.Z, vX.Y, vX, latest)
#   B. a loop of 4 skopeo copy calls, one per tag (push-to-registry style)
#   C. one single-tag skopeo copy
# Median of N runs each, wall time; prints ratios. Never fails on a time.
set -euo pipefail
bin=$1
runs=${BENCH_RUNS:-5}
reg=$REGPUSH_TEST_PLAIN
work=$(mktemp -d /tmp/regpush-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
B=(buildah --root "$work/storage" --runroot "$work/run" --storage-driver vfs)
head -c $((60 * 1024 * 1024)) /dev/urandom >"$work/blob"
c=$("${B[@]}" from scratch)
"${B[@]}" copy "$c" "$work/blob" /blob >/dev/null
"${B[@]}" commit -q "$c" localhost/bench:60mb >/dev/null
"${B[@]}" push -q localhost/bench:60mb "oci-archive:$work/bench.tar"
rm -f "$work/blob"
src=oci-archive:$work/bench.tar
sha=0123456789abcdef0123456789abcdef01234567
echo "image: $(du -h "$work/bench.tar" | cut -f1) oci-archive, registry $reg (loopback), $runs runs each"

# containers/image remembers where it saw each blob and mounts it from
# there instead of uploading; forget that before every run so each one
# really uploads the 60 MB (the file is only a cache).
forget() { rm -f /var/lib/containers/cache/blob-info-cache-v1.boltdb \
  "${XDG_DATA_HOME:-$HOME/.local/share}/containers/cache/blob-info-cache-v1.boltdb"; }
now() { forget; date +%s.%N; }
# Each function pushes to a fresh repository on registry $1 and prints
# the seconds it took; the repository name is left in $last. They run in
# pipelines (subshells), so names come from /dev/urandom, not a counter.
fresh() { od -An -N6 -tx1 /dev/urandom | tr -d ' \n'; }
time_regpush() {
  local n t0 t1; n=$(fresh); last=bench/a$n
  t0=$(now)
  TMPDIR=$work "$bin" push --source "$src" --ref refs/tags/v1.2.3 --sha $sha --service "a$n" \
    --prod-registry "$1/bench" --insecure-registry "$1" >/dev/null 2>&1
  t1=$(now); echo "$t1 - $t0" | bc
}
time_loop() {
  local n t0 t1 t; n=$(fresh); last=bench/b$n
  t0=$(now)
  for t in v1.2.3 v1.2 v1 latest; do
    skopeo copy -q --dest-tls-verify=false "$src" "docker://$1/bench/b$n:$t" >/dev/null
  done
  t1=$(now); echo "$t1 - $t0" | bc
}
time_single() {
  local n t0 t1; n=$(fresh); last=bench/c$n
  t0=$(now)
  skopeo copy -q --dest-tls-verify=false "$src" "docker://$1/bench/c$n:v1.2.3" >/dev/null
  t1=$(now); echo "$t1 - $t0" | bc
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# HTTP requests the registry saw for the last repository (proxy log).
requests() {
  local c; c=$(grep -c " /v2/$last/" "$REGPUSH_TEST_SLOW_LOG" 2>/dev/null || true)
  # /v2/ pings carry no repository: count them per client run.
  [ "${c:-0}" -gt 0 ] && echo "$c requests" || echo ""
}

measure() { # measure LABEL REGISTRY
  local A Bt C ra rb rc
  A=$(for _ in $(seq "$runs"); do time_regpush "$2"; done | median); time_regpush "$2" >/dev/null; ra=$(requests)
  Bt=$(for _ in $(seq "$runs"); do time_loop "$2"; done | median); time_loop "$2" >/dev/null; rb=$(requests)
  C=$(for _ in $(seq "$runs"); do time_single "$2"; done | median); time_single "$2" >/dev/null; rc=$(requests)
  echo "-- $1"
  printf '%-36s %7.2f s  %5.2fx single  %s\n' "regpush push, 4-tag release" "$A" "$(echo "$A / $C" | bc -l)" "$ra"
  printf '%-36s %7.2f s  %5.2fx single  %s\n' "4 x skopeo copy (one per tag)" "$Bt" "$(echo "$Bt / $C" | bc -l)" "$rb"
  printf '%-36s %7.2f s  %5.2fx single  %s\n' "1 x skopeo copy (single tag)" "$C" 1 "$rc"
  printf 'regpush / 4-copy loop: %.2f\n' "$(echo "$A / $Bt" | bc -l)"
}
echo "(requests: as seen by the proxy for one push, by every client, /v2/ pings not counted)"
measure "loopback" "$reg"
measure "through a proxy adding 20 ms of round-trip time" "$REGPUSH_TEST_SLOW"
