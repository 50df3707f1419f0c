#!/bin/sh
# make bench: prints figures; never fails on a time.
#   1. plan: 10,000 plans in one process, time per plan
#   2. one whole `regpush plan` process: wall time (hyperfine) and peak RSS
#   3. push (see bench/push.sh)
#   4. promote (see bench/promote.sh)
#   5. prune of 2,000 tags (see bench/prune.sh), against distribution's
#      own floor, and on go-containerregistry against crane, with a
#      20,000-tag dry run's peak RSS (bench/prune-ggcr.sh)
#   6. the action image: cold docker build against pull by digest + run,
#      and its compressed size (see bench/image.sh)
#   7. one table of every goal: regpush, the peer measured in the same
#      run, the ratio, the goal (also written to build/bench-summary.md)
set -eu
bin=$1
root=$(cd "$(dirname "$0")/.." && pwd)
b=$root/build
sha=0123456789abcdef0123456789abcdef01234567
BENCH_SUMMARY=$b/bench-summary.txt
export BENCH_SUMMARY
: >"$BENCH_SUMMARY"

echo "== plan, in process"
# The objects of today's sources only (a file moved or removed leaves a
# stale object behind in a development tree, which would link twice).
objs=$(cd "$root/src" && for c in *.c registry/*.c; do
  [ "$c" = main.c ] || echo "$b/obj/${c%.c}.o"; done)
# shellcheck disable=SC2086
cc -std=c11 -D_GNU_SOURCE -O2 -I"$root/include" -o "$b/plan_bench" "$root/bench/plan_bench.c" \
  $objs $(pkg-config --libs libcurl jansson yaml-0.1 libcrypto)
"$b/plan_bench" 10000

echo "== plan, whole process"
hyperfine -N --warmup 20 --runs 300 --export-json "$b/plan-hf.json" \
  "$bin plan --ref refs/tags/v1.2.3 --sha $sha --service gateway" 2>/dev/null |
  grep -E "Time|Range" || true
/usr/bin/time -v "$bin" plan --ref refs/tags/v1.2.3 --sha $sha --service gateway \
  2>"$b/plan-time.txt" >/dev/null
grep -E "Maximum resident set size" "$b/plan-time.txt"

echo "== start-up: static (shipped) and dynamic builds against /bin/true"
static=$root/build/static/regpush
[ -x "$static" ] || make -C "$root" static >/dev/null
hyperfine -N --warmup 20 --runs 300 --export-json "$b/start-hf.json" \
  "$static plan --ref refs/tags/v1.2.3 --sha $sha --service gateway" \
  "$bin plan --ref refs/tags/v1.2.3 --sha $sha --service gateway" \
  "/bin/true" >/dev/null 2>&1
python3 - "$b/start-hf.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
t = r[2]["mean"]
for name, x in (("static regpush plan", r[0]), ("dynamic regpush plan", r[1]), ("/bin/true", r[2])):
    print("%-22s %6.2f ms +- %.2f  %.2fx /bin/true" % (name, x["mean"] * 1e3, x["stddev"] * 1e3, x["mean"] / t))
PY
/usr/bin/time -f "static plan peak RSS: %M KB" "$static" plan --ref refs/tags/v1.2.3 --sha $sha \
  --service gateway >/dev/null
python3 - "$b/start-hf.json" "$root/bench/peak_rss.py" "$static" "$sha" >>"$BENCH_SUMMARY" <<'PY'
import json, subprocess, sys
r = json.load(open(sys.argv[1]))["results"]
print("regpush plan, static, whole process|%.2f ms|/bin/true %.2f ms|%.2fx|<= 1.0x" % (
    r[0]["mean"] * 1e3, r[2]["mean"] * 1e3, r[0]["mean"] / r[2]["mean"]))
rss = lambda *a: float(subprocess.run([sys.executable, sys.argv[2]] + list(a), capture_output=True,
                                      text=True, check=True).stdout.split()[0])
p, t = rss(sys.argv[3], "plan", "--ref", "refs/tags/v1.2.3", "--sha", sys.argv[4], "--service", "g"), rss("/bin/true")
print("peak RSS, regpush plan (static)|%.1f MB|/bin/true %.1f MB|%.1fx|-" % (p, t, p / t))
PY

echo "== push"
bash "$root/tests/with-registries.sh" bash "$root/bench/push.sh" "$bin"

echo "== promote"
bash "$root/tests/with-registries.sh" bash "$root/bench/promote.sh" "$bin"

echo "== prune"
bash "$root/tests/with-registries.sh" bash "$root/bench/prune.sh" "$bin"
echo "== prune on go-containerregistry's registry, and at 20,000 tags"
bash "$root/tests/with-registries.sh" bash "$root/bench/prune-ggcr.sh" "$bin"

echo "== image: what a user pays before regpush runs (see bench/image.sh)"
bash "$root/tests/with-registries.sh" bash "$root/tests/with-docker.sh" bash "$root/bench/image.sh"

echo "== summary ($(date -u +%Y-%m-%d), $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo))"
{
  echo "| figure | regpush | peer, same run | ratio | goal |"
  echo "|---|---|---|---|---|"
  awk -F'|' '{ printf "|"; for (i = 1; i <= NF; i++) printf " %s |", $i; print "" }' "$BENCH_SUMMARY"
} | tee "$b/bench-summary.md"
