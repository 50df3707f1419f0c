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
n=0
time_regpush() {
  n=$((n + 1)); local t0 t1
  t0=$(now)
  TMPDIR=$work "$bin" push --source "$src" --ref refs/tags/v1.2.3 --sha $sha --service "a$n" \
    --prod-registry "$reg/bench" --insecure-registry "$reg" >/dev/null 2>&1
  t1=$(now); echo "$t1 - $t0" | bc
}
time_loop() {
  n=$((n + 1)); local t0 t1 t
  t0=$(now)
  for t in v1.2.3 v1.2 v1 latest; do
    skopeo copy -q --dest-tls-verify=false "$src" "docker://$reg/bench/b$n:$t" >/dev/null
  done
  t1=$(now); echo "$t1 - $t0" | bc
}
time_single() {
  n=$((n + 1)); local t0 t1
  t0=$(now)
  skopeo copy -q --dest-tls-verify=false "$src" "docker://$reg/bench/c$n:v1.2.3" >/dev/null
  t1=$(now); echo "$t1 - $t0" | bc
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

A=$(for _ in $(seq "$runs"); do time_regpush; done | median)
Bt=$(for _ in $(seq "$runs"); do time_loop; done | median)
C=$(for _ in $(seq "$runs"); do time_single; done | median)
printf '%-44s %8.2f s  %5.2fx single\n' "regpush push, 4-tag release" "$A" "$(echo "$A / $C" | bc -l)"
printf '%-44s %8.2f s  %5.2fx single\n' "4 x skopeo copy (one per tag)" "$Bt" "$(echo "$Bt / $C" | bc -l)"
printf '%-44s %8.2f s  %5.2fx single\n' "1 x skopeo copy (single tag)" "$C" 1
printf 'regpush / 4-copy loop: %.2f\n' "$(echo "$A / $Bt" | bc -l)"
