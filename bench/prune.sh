#!/bin/bash
# Prune benchmark (run through tests/with-registries.sh): 2,000 expired
# development tags, each on an image of its own, in a local distribution
# registry on loopback:
#   A. regpush prune (one process; concurrent reads and deletes)
#   B. a loop of `skopeo delete`, one process per tag, timed on 50 tags
#      of another 2,000-tag repository and scaled to 2,000 (distribution's
#      DELETE reads every tag of the repository, so its cost depends on
#      the repository's size: both sides run on 2,000 tags)
# Prints the ratio. Never fails on a time.
set -euo pipefail
bin=$1
reg=$REGPUSH_TEST_PLAIN
here=$(cd "$(dirname "$0")" && pwd)
n=${BENCH_PRUNE_TAGS:-2000}
sample=50
python3 "$here/seed_tags.py" "$reg" bench/prune-a "$n"
python3 "$here/seed_tags.py" "$reg" bench/prune-b "$n"
t0=$(date +%s.%N)
"$bin" prune --dry-run --repository "$reg/bench/prune-a" --now 2035-01-01T00:00:00Z \
  --insecure-registry "$reg" >/dev/null 2>&1
t1=$(date +%s.%N)
R=$(echo "$t1 - $t0" | bc)
t0=$(date +%s.%N)
"$bin" prune --repository "$reg/bench/prune-a" --now 2035-01-01T00:00:00Z --insecure-registry "$reg" \
  >/dev/null 2>&1
t1=$(date +%s.%N)
A=$(echo "$t1 - $t0" | bc)
left=$(curl -s "http://$reg/v2/bench/prune-a/tags/list?n=10000" | python3 -c 'import json,sys; print(len(json.load(sys.stdin).get("tags") or []))')
t0=$(date +%s.%N)
for i in $(seq 0 $((sample - 1))); do
  skopeo delete --tls-verify=false "docker://$reg/bench/prune-b:dev-$(printf %07x "$i")"
done
t1=$(date +%s.%N)
B=$(echo "($t1 - $t0) * $n / $sample" | bc -l)
printf '%d tags: regpush prune --dry-run (reads only) %.2f s\n' "$n" "$R"
printf '%d tags: regpush prune %.2f s (%s left); skopeo delete loop %.2f s (%d timed, scaled): %.1fx faster\n' \
  "$n" "$A" "$left" "$B" "$sample" "$(echo "$B / $A" | bc -l)"
