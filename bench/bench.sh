#!/bin/sh
# make bench: prints figures; never fails on a time.
#   1. plan: 10,000 plans in one process, time per plan
#   2. one whole `regpush plan` process: wall time (hyperfine) and peak RSS
#   3. push (see bench/push.sh)
#   4. promote (see bench/promote.sh)
#   5. prune of 2,000 tags (see bench/prune.sh)
set -eu
bin=$1
root=$(cd "$(dirname "$0")/.." && pwd)
b=$root/build
sha=0123456789abcdef0123456789abcdef01234567

echo "== plan, in process"
objs=$(ls "$b"/obj/*.o | grep -v '/main.o$')
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

echo "== push"
bash "$root/tests/with-registries.sh" bash "$root/bench/push.sh" "$bin"

echo "== promote"
bash "$root/tests/with-registries.sh" bash "$root/bench/promote.sh" "$bin"

echo "== prune"
bash "$root/tests/with-registries.sh" bash "$root/bench/prune.sh" "$bin"
