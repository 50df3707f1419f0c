#!/bin/bash
# Prune benchmark (run through tests/with-registries.sh): 2,000 expired
# development tags, each on an image of its own, in a local distribution
# registry on loopback:
#   A. regpush prune (one process; concurrent reads and deletes)
#   B. a loop of `skopeo delete`, one process per tag, estimated from
#      samples: distribution's DELETE reads every tag of the repository,
#      so a delete costs a + b x (tags left), and a whole loop over 2,000
#      tags costs 2,000 x the mean of that over 2,000 ... 1 tags left, i.e.
#      the mean of a delete at 2,000 tags and one at ~0. So 25 deletes
#      are timed on another 2,000-tag repository and 25 on a 50-tag one,
#      and the loop is 2,000 x the mean of the two per-delete times.
# Then 50 tags of each through the 20 ms RTT proxy, for the requests and
# round trips each side makes. Prints the ratios; appends its goal rows
# to $BENCH_SUMMARY. Never fails on a time.
set -euo pipefail
bin=$1
reg=$REGPUSH_TEST_PLAIN
here=$(cd "$(dirname "$0")" && pwd)
n=${BENCH_PRUNE_TAGS:-2000}
sample=25
python3 "$here/seed_tags.py" "$reg" bench/prune-a "$n"
python3 "$here/seed_tags.py" "$reg" bench/prune-b "$n"
# The registry's own CPU seconds (utime+stime of its process), to show
# where the time goes: distribution 2.8 answers each DELETE by reading
# every tag of the repository.
regpid=$(pgrep -f "serve ${REGPUSH_TEST_PLAIN_LOG%/log}/config.yml" | head -1)
cpu() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$1/stat"; }
tf=$(mktemp)
t0=$(date +%s.%N)
"$bin" prune --dry-run --repository "$reg/bench/prune-a" --now 2035-01-01T00:00:00Z \
  --insecure-registry "$reg" >/dev/null 2>&1
t1=$(date +%s.%N)
R=$(echo "$t1 - $t0" | bc)
r0=$(cpu "$regpid")
t0=$(date +%s.%N)
/usr/bin/time -o "$tf" -f "%U %S" "$bin" prune --repository "$reg/bench/prune-a" \
  --now 2035-01-01T00:00:00Z --insecure-registry "$reg" >/dev/null 2>&1
t1=$(date +%s.%N)
A=$(echo "$t1 - $t0" | bc)
AC=$(awk '{print $1 + $2}' "$tf")
AR=$(echo "$(cpu "$regpid") - $r0" | bc)
left=$(curl -s "http://$reg/v2/bench/prune-a/tags/list?n=10000" | python3 -c 'import json,sys; print(len(json.load(sys.stdin).get("tags") or []))')
python3 "$here/seed_tags.py" "$reg" bench/prune-e 50
# loop REPO -> "seconds user+sys registry-cpu" for 25 deletes
loop() {
  local r0 t0 t1
  r0=$(cpu "$regpid")
  t0=$(date +%s.%N)
  /usr/bin/time -o "$tf" -f "%U %S" bash -c '
  for i in $(seq 0 $(($3 - 1))); do
    skopeo delete --tls-verify=false "docker://$1/$2:dev-$(printf %07x "$i")"
  done' - "$reg" "$1" "$sample"
  t1=$(date +%s.%N)
  echo "$(echo "$t1 - $t0" | bc) $(awk '{print $1 + $2}' "$tf") $(echo "$(cpu "$regpid") - $r0" | bc)"
}
hi=$(loop bench/prune-b)
lo=$(loop bench/prune-e)
# per field: n x (hi + lo) / 2 / sample
est() { echo "$hi $lo" | awk -v k="$1" -v n="$n" -v s="$sample" '{print n * ($k + $(k + 3)) / 2 / s}'; }
B=$(est 1)
BC=$(est 2)
BR=$(est 3)
rm -f "$tf"
printf '%d tags: regpush prune --dry-run (reads only) %.2f s\n' "$n" "$R"
printf '%d tags: regpush prune %.2f s (%s left); skopeo delete loop %.2f s (estimated: %d deletes at %d tags and %d at 50; per delete %.1f and %.1f ms): %.1fx faster\n' \
  "$n" "$A" "$left" "$B" "$sample" "$n" "$sample" "$(echo "$hi" | awk -v s=$sample '{print $1 * 1000 / s}')" \
  "$(echo "$lo" | awk -v s=$sample '{print $1 * 1000 / s}')" "$(echo "$B / $A" | bc -l)"
printf '%d tags: client CPU regpush %.2f s, skopeo loop %.2f s (%.0fx less); registry CPU %.1f s vs %.1f s\n' \
  "$n" "$AC" "$BC" "$(echo "$BC / $AC" | bc -l)" "$AR" "$BR"

# The same work on 50 tags through the 20 ms RTT link: requests and
# sequential round trips from the proxy's log.
slow=$REGPUSH_TEST_SLOW
python3 "$here/seed_tags.py" "$reg" bench/prune-c 50
python3 "$here/seed_tags.py" "$reg" bench/prune-d 50
t0=$(date +%s.%N)
w0=$t0
"$bin" prune --repository "$slow/bench/prune-c" --now 2035-01-01T00:00:00Z \
  --insecure-registry "$slow" >/dev/null 2>&1
t1=$(date +%s.%N)
W=$(echo "$t1 - $t0" | bc)
w1=$t1
t0=$(date +%s.%N)
for i in $(seq 0 49); do
  skopeo delete --tls-verify=false "docker://$slow/bench/prune-d:dev-$(printf %07x "$i")"
done
t1=$(date +%s.%N)
WB=$(echo "$t1 - $t0" | bc)
NA=$(python3 "$here/timeline.py" "$REGPUSH_TEST_SLOW_LOG" "$w0" "$w1")
NB=$(python3 "$here/timeline.py" "$REGPUSH_TEST_SLOW_LOG" "$t0" "$t1")
printf '50 tags through the 20 ms link: regpush prune %.2f s (%s); skopeo delete loop %.2f s (%s): %.1fx faster\n' \
  "$W" "$NA" "$WB" "$NB" "$(echo "$WB / $W" | bc -l)"
# distribution's own floor: the registry's CPU seconds for 2,000 deletes
# (from the skopeo loop's samples: each DELETE by digest reads every tag)
# over the cores it can use. regpush cannot finish sooner than that.
cores=$(nproc)
F=$(echo "$BR / $cores" | bc -l)
printf '%d tags: floor (registry CPU for the deletes %.1f s / %d cores) %.2f s; regpush %.2f s = %.2fx the floor (registry CPU during regpush %.1f s)\n' \
  "$n" "$BR" "$cores" "$F" "$A" "$(echo "$A / $F" | bc -l)" "$AR"
summary=${BENCH_SUMMARY:-/dev/null}
{
  printf 'prune %d expired tags, distribution, against its floor|%.1f s|floor %.1f s|%.2fx the floor|<= 1.25x\n' \
    "$n" "$A" "$F" "$(echo "$A / $F" | bc -l)"
  printf 'prune %d expired tags, loopback|%.1f s|skopeo delete loop %.0f s|%.1fx faster|>= 20x faster\n' \
    "$n" "$A" "$B" "$(echo "$B / $A" | bc -l)"
  printf 'prune, client CPU|%.1f s|%.1f s|%.0fx less|-\n' "$AC" "$BC" "$(echo "$BC / $AC" | bc -l)"
  printf 'prune 50 tags, 20 ms link|%.2f s|%.2f s|%.1fx faster|-\n' "$W" "$WB" "$(echo "$WB / $W" | bc -l)"
  printf 'prune 50 tags: requests / round trips|%s|%s|-|-\n' \
    "$(echo "$NA" | sed 's/ (regpush [0-9]*, engine [0-9]*)//; s/ (regpush [0-9]*)//; s/, [0-9.]* s$//')" \
    "$(echo "$NB" | sed 's/ (regpush [0-9]*, engine [0-9]*)//; s/ (regpush [0-9]*)//; s/, [0-9.]* s$//')"
} >>"$summary"
