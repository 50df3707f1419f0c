#!/bin/bash
# Prune on go-containerregistry's registry and at scale (run through
# tests/with-registries.sh; issue 18):
#   A. 2,000 expired tags, each on an image of its own: regpush prune
#      against a loop of `crane delete` over the same number of tags on
#      another repository (crane built from the same Debian sources,
#      scripts/crane.sh; `skopeo delete` removes by digest there and
#      leaves the tags, so it is no peer). Checked: every expired tag
#      gone, the kept tag (dev-latest, within retention) resolving.
#   B. peak RSS of a prune --dry-run of 20,000 tags (goal <= 64 MB).
#   C. audit at scale: the same 20,000 tags (one image) and 2,000 tags
#      each on an image of its own (every manifest and config read once),
#      each against a prune --dry-run of the same repository (the same
#      tag listing and HEADs; prune reads the candidates' manifests and
#      configs too): wall time and peak RSS.
# Appends its rows to $BENCH_SUMMARY. Never fails on a time.
set -euo pipefail
bin=$1
reg=$REGPUSH_TEST_GGCR
crane=$REGPUSH_TEST_CRANE
here=$(cd "$(dirname "$0")" && pwd)
n=${BENCH_PRUNE_TAGS:-2000}
now=2035-01-01T00:00:00Z
python3 "$here/seed_tags.py" "$reg" bench/gg-a "$n"
python3 "$here/seed_tags.py" "$reg" bench/gg-b "$n"
# A kept tag: the newest image, named dev-latest (never pruned).
skopeo copy -q --dest-tls-verify=false "oci-archive:$REGPUSH_TEST_IMAGES/one.tar" "docker://$reg/bench/gg-a:dev-latest"
t0=$(date +%s.%N)
"$bin" prune --repository "$reg/bench/gg-a" --now "$now" --insecure-registry "$reg" >/dev/null 2>&1
t1=$(date +%s.%N)
A=$(echo "$t1 - $t0" | bc)
left=$(curl -s "http://$reg/v2/bench/gg-a/tags/list?n=100000" | python3 -c 'import json,sys; print(" ".join(json.load(sys.stdin).get("tags") or []))')
kept=$(curl -s -o /dev/null -w '%{http_code}' -I "http://$reg/v2/bench/gg-a/manifests/dev-latest")
t0=$(date +%s.%N)
for i in $(seq 0 $((n - 1))); do
  "$crane" delete --insecure "$reg/bench/gg-b:dev-$(printf %07x "$i")" 2>/dev/null
done
t1=$(date +%s.%N)
C=$(echo "$t1 - $t0" | bc)
cleft=$(curl -s "http://$reg/v2/bench/gg-b/tags/list?n=100000" | python3 -c 'import json,sys; print(len(json.load(sys.stdin).get("tags") or []))')
printf '%d tags on go-containerregistry: regpush prune %.2f s (left: %s; dev-latest HTTP %s); crane delete loop %.2f s (%s left): %.1fx faster\n' \
  "$n" "$A" "$left" "$kept" "$C" "$cleft" "$(echo "$C / $A" | bc -l)"

# B. 20,000 tags (one image; put-tags.py), a dry run's peak RSS.
skopeo copy -q --dest-tls-verify=false "oci-archive:$REGPUSH_TEST_IMAGES/one.tar" "docker://$reg/bench/gg-big:seed"
python3 "$here/../tests/put-tags.py" "$reg" bench/gg-big seed dev- 20000
rss=$(python3 "$here/peak_rss.py" "$bin" prune --dry-run --repository "$reg/bench/gg-big" \
  --insecure-registry "$reg" --now "$now" | awk '{print $1}')
printf '20,000 tags: regpush prune --dry-run peak RSS %.1f MB\n' "$rss"
# C. audit at scale, beside prune --dry-run on the same repositories.
python3 "$here/seed_tags.py" "$reg" bench/gg-c "$n"
# seconds and peak RSS (MB) of one run: "S MB"
measure() {
  local t0 t1 mb
  t0=$(date +%s.%N)
  mb=$(python3 "$here/peak_rss.py" "$@" | awk '{print $1}')
  t1=$(date +%s.%N)
  echo "$(echo "$t1 - $t0" | bc) $mb"
}
# Both print their table (like with like: --json builds one document of
# every row or finding, about 80 MB at 20,000 for either; measured apart).
audit_at() { measure "$bin" audit --repository "$reg/bench/$1" --dev-registry "$reg/bench" \
  --prod-registry "$reg/elsewhere" --insecure-registry "$reg" --now "$now" "${@:2}"; }
prune_at() { measure "$bin" prune --dry-run --repository "$reg/bench/$1" \
  --insecure-registry "$reg" --now "$now" "${@:2}"; }
read -r AUB AUBM < <(audit_at gg-big)
read -r PRB PRBM < <(prune_at gg-big)
read -r AUC AUCM < <(audit_at gg-c)
read -r PRC PRCM < <(prune_at gg-c)
read -r _ AUJM < <(audit_at gg-big --json)
read -r _ PRJM < <(prune_at gg-big --json)
printf '20,000 tags, one image: regpush audit %.2f s, %.1f MB; prune --dry-run %.2f s, %.1f MB\n' \
  "$AUB" "$AUBM" "$PRB" "$PRBM"
printf '%d tags, each its own image: regpush audit %.2f s, %.1f MB; prune --dry-run %.2f s, %.1f MB\n' \
  "$n" "$AUC" "$AUCM" "$PRC" "$PRCM"
summary=${BENCH_SUMMARY:-/dev/null}
{
  printf 'prune %d expired tags, go-containerregistry|%.2f s|crane delete loop %.1f s|%.1fx faster|>= 15x faster\n' \
    "$n" "$A" "$C" "$(echo "$C / $A" | bc -l)"
  printf 'peak RSS, prune --dry-run of 20,000 tags|%.1f MB|-|-|<= 64 MB\n' "$rss"
  printf 'audit 20,000 tags (one image), go-containerregistry|%.2f s|prune --dry-run %.2f s|%.2fx|<= 1.5x\n' \
    "$AUB" "$PRB" "$(echo "$AUB / $PRB" | bc -l)"
  printf 'audit %d tags (each its own image), go-containerregistry|%.2f s|prune --dry-run %.2f s|%.2fx|<= 1.5x\n' \
    "$n" "$AUC" "$PRC" "$(echo "$AUC / $PRC" | bc -l)"
  printf 'peak RSS, audit of 20,000 tags|%.1f MB|prune --dry-run %.1f MB|%.2fx|<= 64 MB\n' \
    "$AUBM" "$PRBM" "$(echo "$AUBM / $PRBM" | bc -l)"
  printf 'peak RSS, audit --json of 20,000 tags|%.1f MB|prune --dry-run --json %.1f MB|%.2fx|-\n' \
    "$AUJM" "$PRJM" "$(echo "$AUJM / $PRJM" | bc -l)"
} >>"$summary"
