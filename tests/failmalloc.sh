#!/bin/bash
# Allocation-failure torture for the plan, push, promote and prune paths (the idea of curl's torture
# mode): for every allocation N that regpush makes after main() starts,
# run it again with exactly that allocation failing (tests/failmalloc.c,
# LD_PRELOAD) and check that it
#   - never crashes (no death by signal),
#   - either fails cleanly (exit 1 "out of memory"; or exit 2 with one
#     message line, because jansson 2.14 reports an allocation failing in
#     its lexer as a syntax error, and can even drop a character from a
#     string, which regpush's validation then refuses), or succeeds with
#     exactly the normal output,
#   - never leaves a partial record in $GITHUB_OUTPUT or the summary, and
#     (in action mode) always writes them: a failed run's outputs are
#     whole records with its result, and its summary has its heading.
# The push case (push --dry-run of a release: source, registry client,
# token-less reads, decision, report) runs when the test registries are up
# (tests/with-registries.sh); see norm() for what is normalised before
# comparing outputs. Allocations made by OpenSSL and by the dynamic
# loader are spared there (see shim/failmalloc.c): OpenSSL 3.0 crashes on
# them by itself, and glibc aborts the process when it cannot allocate a
# new thread's TLS (libcurl resolves names on a thread) or load libcurl.
# Usage: tests/failmalloc.sh build/regpush
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc -shared -fPIC -O1 -o "$tmp/failmalloc.so" "$here/shim/failmalloc.c" -ldl
sha=0123456789abcdef0123456789abcdef01234567
printf 'version: 1\nsha-length: 9\nbranches:\n  dev-latest: [main]\n' >"$tmp/p.yaml"
printf '{"pull_request":{"number":5,"head":{"sha":"%s"}}}' "$sha" >"$tmp/ev.json"

# The private directory's random name, and where the upload reads the
# image: straight from the oci: source, or from the staged copy regpush
# falls back to when it cannot read the source's index.json (an
# allocation failing inside jansson looks like that). The digest, which
# is what matters, is compared as it is.
# The writing case pushes a new feature-fm<N> tag each run: N is normalised.
norm() { sed -E 's/regpush\.[A-Za-z0-9]{6}/regpush.XXXXXX/g; s/ oci:[^ ]*layout:[a-z]+ / oci:LAYOUT /; s/feature(-|\/)fm[0-9]+/feature\1fmN/g; s/"signature": "sha256:[0-9a-f]+"/"signature": "sha256:SIG"/'; }

# Whole file-command records: name=value lines, or name<<DELIM ... DELIM.
records_ok() {
  awk '
    d != "" { if ($0 == d) d = ""; next }
    /^[a-z][a-z0-9-]*<<ghadelimiter_[0-9a-f]{32}$/ { d = substr($0, index($0, "<<") + 2); next }
    /^[a-z][a-z0-9-]*=/ { next }
    { bad = 1 }
    END { exit (bad || d != "") }' "$1"
}

run_case() { # run_case NAME -- command...
  local name=$1; shift; shift
  local n total rc fails=0 ok=0 lexer=0 actions=
  case "$name" in *"action mode"*) actions=1;; esac
  : >"$tmp/out"; : >"$tmp/sum"
  "$@" 2>/dev/null | norm >"$tmp/good"
  sed -E 's/ghadelimiter_[0-9a-f]{32}/EOF/g' "$tmp/out" >"$tmp/good.out"
  cp "$tmp/sum" "$tmp/good.sum"
  total=$(FAILMALLOC_REPORT=1 LD_PRELOAD="$tmp/failmalloc.so" "$@" 2>&1 >/dev/null |
          sed -n 's/^failmalloc: \([0-9]*\) allocations$/\1/p')
  for n in $(seq "${FAILMALLOC_FROM:-1}" "${FAILMALLOC_EVERY:-1}" "$total"); do
    : >"$tmp/out"; : >"$tmp/sum"
    set +e
    FAILMALLOC_N=$n LD_PRELOAD="$tmp/failmalloc.so" "$@" >"$tmp/raw" 2>"$tmp/err"
    rc=$?
    norm <"$tmp/raw" >"$tmp/got"
    set -e
    if [ "$rc" -ge 128 ]; then
      echo "failmalloc: $name: allocation $n: killed by signal $((rc - 128))" >&2; exit 1
    elif [ "$rc" -eq 0 ]; then
      cmp -s "$tmp/got" "$tmp/good" || { echo "failmalloc: $name: allocation $n: exit 0 but different output" >&2; diff "$tmp/good" "$tmp/got" >&2; cat "$tmp/err" >&2; exit 1; }
      sed -E 's/ghadelimiter_[0-9a-f]{32}/EOF/g' "$tmp/out" | cmp -s - "$tmp/good.out" ||
        { echo "failmalloc: $name: allocation $n: exit 0 but GITHUB_OUTPUT differs" >&2; exit 1; }
      ok=$((ok + 1))
    else
      { [ "$rc" -eq 1 ] && grep -qi "out of memory" "$tmp/err" "$tmp/got"; } ||
      { [ "$rc" -eq 1 ] && [ -n "${also_ok:-}" ] && grep -q "$also_ok" "$tmp/err"; } ||
      { [ "$rc" -eq 2 ] && [ "$(cat "$tmp/err" "$tmp/got" | wc -l)" -eq 1 ]; } ||
        { echo "failmalloc: $name: allocation $n: exit $rc: $(cat "$tmp/err")" >&2; exit 1; }
      # Every run reports, a failed one too: whole records, with result.
      if [ -n "$actions" ]; then
        records_ok "$tmp/out" ||
          { echo "failmalloc: $name: allocation $n: GITHUB_OUTPUT is not whole records:" >&2; cat "$tmp/out" >&2; exit 1; }
        grep -qE '^result=(failed|invalid)$' "$tmp/out" ||
          { echo "failmalloc: $name: allocation $n: failed run wrote no result" >&2; cat "$tmp/out" >&2; exit 1; }
        grep -q '^### regpush ' "$tmp/sum" ||
          { echo "failmalloc: $name: allocation $n: failed run wrote no summary" >&2; exit 1; }
      fi
      [ "$rc" -eq 2 ] && lexer=$((lexer + 1))
      fails=$((fails + 1))
    fi
  done
  echo "failmalloc: $name: $total allocations, $([ "${FAILMALLOC_EVERY:-1}" -gt 1 ] &&
        echo "one in ${FAILMALLOC_EVERY}" || echo each) failed once: $fails clean exits" \
    "($lexer of them exit 2, from jansson), $ok unaffected"
}

# FAILMALLOC_ONLY=push|promote|prune runs that case alone, FAILMALLOC_FROM=N starts
# each case at allocation N (both for working on a failure). The registry
# cases fail one allocation in 2 to 25 (each case says which) so that make
# test keeps to its time; FAILMALLOC_EVERY=1 (make failmalloc-full) fails
# every one of every case.
[ -n "${FAILMALLOC_ONLY:-}" ] || {
run_case "plan --json (release candidate, user policy)" -- \
  "$bin" plan --json --ref refs/tags/v1.2.3-rc.1 --sha $sha --service gateway \
  --policy "$tmp/p.yaml" --now 2027-01-01T00:00:00Z
# Not through env(1): the shim would count env's own allocations.
# jansson's allocations are spared (as in promote and prune below): the
# outputs are dumped and read back several times, and jansson 2.14's
# lexer crashes (SIGSEGV in json_loads) when one of its own allocations
# fails.
action_mode() {
  FAILMALLOC_SPARE=libjansson GITHUB_ACTIONS=true INPUT_MODE=plan GITHUB_REF=refs/pull/5/merge GITHUB_SHA=$sha \
  GITHUB_EVENT_NAME=pull_request GITHUB_EVENT_PATH="$tmp/ev.json" GITHUB_REPOSITORY=acme/gw \
  GITHUB_OUTPUT="$tmp/out" GITHUB_STEP_SUMMARY="$tmp/sum" SOURCE_DATE_EPOCH=1800000000 "$bin"
}
run_case "action mode (pull request, outputs and summary)" -- action_mode
}

if [ -n "${REGPUSH_TEST_PLAIN:-}" ]; then
  mkdir -p "$tmp/w"
  push_dry_run() {
    FAILMALLOC_SPARE=libcrypto,libssl,ld-linux TMPDIR="$tmp/w" HOME=/root SOURCE_DATE_EPOCH=1800000000 \
      "$bin" push --dry-run --json \
      --source "oci:$REGPUSH_TEST_IMAGES/layout:one" --ref refs/tags/v1.2.3 --sha $sha \
      --service failmalloc --prod-registry "$REGPUSH_TEST_PLAIN/fm" \
      --insecure-registry "$REGPUSH_TEST_PLAIN"
  }
  [ "${FAILMALLOC_ONLY:-push}" != push ] ||
    FAILMALLOC_EVERY=${FAILMALLOC_EVERY:-2} run_case "push --dry-run (a release: registry reads, decision, report; one allocation in ${FAILMALLOC_EVERY:-2})" -- push_dry_run
  [ -z "$(ls -A "$tmp/w")" ] || { echo "failmalloc: push left files behind: $(ls -A "$tmp/w")" >&2; exit 1; }

  # promote --dry-run from development (resolve, source manifest and
  # config, labels, destination reads, decision) and prune --dry-run
  # (tag list, ages from the configs, classification, the table), on
  # images seeded here.
  reg=$REGPUSH_TEST_PLAIN
  skopeo copy -q --dest-tls-verify=false "oci-archive:$REGPUSH_TEST_IMAGES/rev.tar" \
    "docker://$reg/fmdev/failmalloc:dev-0123456"
  for t in dev-0000001 staging-v1.0.0-rc.9 latest; do
    skopeo copy -q --dest-tls-verify=false "oci-archive:$REGPUSH_TEST_IMAGES/one.tar" \
      "docker://$reg/fmprune/x:$t"
  done
  promote_dry_run() {
    FAILMALLOC_SPARE=libcrypto,libssl,ld-linux,libjansson TMPDIR="$tmp/w" HOME=/root SOURCE_DATE_EPOCH=1800000000 \
      "$bin" promote --dry-run --json --from development --ref refs/tags/v1.2.3 --sha $sha \
      --service failmalloc --dev-registry "$reg/fmdev" --prod-registry "$reg/fmprod" \
      --insecure-registry "$reg"
  }
  prune_dry_run() {
    FAILMALLOC_SPARE=libcrypto,libssl,ld-linux,libjansson TMPDIR="$tmp/w" HOME=/root \
      "$bin" prune --dry-run --json --repository "$reg/fmprune/x" --now 2035-01-01T00:00:00Z \
      --insecure-registry "$reg"
  }
  # jansson's own allocations are spared in these two: under an
  # allocation failure jansson 2.14 can abort in its lexer (load.c:442,
  # lex_scan_string: assert(0)) or return a document with a key missing,
  # neither of which regpush can see or handle.
  # The writing paths (issue 17): a real push whose image is already in
  # the repository (uploaded once, here, so no engine runs in the loop),
  # each run writing a new floating tag feature-fm<N>: the re-read, the
  # PUTs, the settling read, the verification and, when an allocation
  # fails there, the failure report. The counter is kept with shell
  # builtins only: anything run under the shim would be counted.
  echo 0 >"$tmp/ctr"
  TMPDIR="$tmp/w" HOME=/root SOURCE_DATE_EPOCH=1800000000 "$bin" push \
    --source "oci:$REGPUSH_TEST_IMAGES/layout:one" --ref refs/heads/feature/seed --sha $sha \
    --service failmalloc-w --dev-registry "$reg/fmw" --insecure-registry "$reg" >/dev/null 2>&1
  push_writes() {
    local i
    read -r i <"$tmp/ctr"
    echo $((i + 1)) >"$tmp/ctr"
    FAILMALLOC_SPARE=libcrypto,libssl,ld-linux,libjansson TMPDIR="$tmp/w" HOME=/root SOURCE_DATE_EPOCH=1800000000 \
      "$bin" push --json --source "oci:$REGPUSH_TEST_IMAGES/layout:one" --ref "refs/heads/feature/fm$i" \
      --sha $sha --service failmalloc-w --dev-registry "$reg/fmw" --insecure-registry "$reg"
  }
  [ "${FAILMALLOC_ONLY:-writes}" != writes ] ||
    FAILMALLOC_EVERY=${FAILMALLOC_EVERY:-2} run_case "push (writes: re-read, PUT, settle, verify, failure report; one allocation in ${FAILMALLOC_EVERY:-2})" -- push_writes
  # Signing (issue 20): the same writes with a signing key. Each run's ref
  # is new, so its payload is, and the .sig image of the digest gets one
  # more layer: the read, the merge, the two blobs, the PUT, the settling
  # read. The key is read here, outside the shim.
  signkey=$(openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 2>/dev/null)
  push_signed() { REGPUSH_SIGNING_KEY=$signkey push_writes; }
  [ "${FAILMALLOC_ONLY:-signed}" != signed ] ||
    FAILMALLOC_EVERY=${FAILMALLOC_EVERY:-5} run_case "push signed (the .sig read, merged, written, read back; one allocation in ${FAILMALLOC_EVERY:-5})" -- push_signed
  # prune's writes: each run first (outside the shim) puts the expired
  # dev-0000000 and dev-0000001 back on the image that `seed` keeps, then
  # prunes them: the re-read before each untag, the untags (placeholder
  # PUT and DELETE), the report.
  skopeo copy -q --dest-tls-verify=false "oci-archive:$REGPUSH_TEST_IMAGES/one.tar" \
    "docker://$reg/fmpw/x:seed"
  prune_writes() {
    LD_PRELOAD= FAILMALLOC_N= FAILMALLOC_REPORT= python3 "$here/put-tags.py" "$reg" fmpw/x seed dev- 2
    FAILMALLOC_SPARE=libcrypto,libssl,ld-linux,libjansson TMPDIR="$tmp/w" HOME=/root \
      "$bin" prune --json --repository "$reg/fmpw/x" --now 2035-01-01T00:00:00Z --insecure-registry "$reg"
  }
  # A row that failed is reported on its row and the run ends "some
  # deletes failed" (exit 1): a clean end too. (A blob PUT the registry
  # took while an allocation failed on this side is retried into a closed
  # session, 404 BLOB_UPLOAD_UNKNOWN: reg_blob_put then finds the blob by
  # its digest and goes on; the signed push case below met it in CI on
  # 2026-12-02.)
  also_ok="some deletes failed (see the table)"
  # Each run seeds with python first: every third allocation, so that
  # make test stays within its time (FAILMALLOC_EVERY=1 for all).
  [ "${FAILMALLOC_ONLY:-prunewrites}" != prunewrites ] ||
    FAILMALLOC_EVERY=${FAILMALLOC_EVERY:-4} run_case "prune (writes: re-read, untags, report; one allocation in ${FAILMALLOC_EVERY:-4})" -- prune_writes
  # prune's deletes by digest: each run (outside the shim) forges a new
  # image — the seed's manifest with an annotation of its own, so a new
  # digest — as the expired dev-0000001, which the run then deletes. Its
  # digest differs per run: normalised (outside the shim) before comparing.
  prune_deletes() {
    local i
    read -r i <"$tmp/ctr"
    echo $((i + 1)) >"$tmp/ctr"
    LD_PRELOAD= FAILMALLOC_N= FAILMALLOC_REPORT= python3 "$here/forge.py" annotate "$reg" fmpw/x seed \
      dev-0000001 "fm.run=$i" >/dev/null
    FAILMALLOC_SPARE=libcrypto,libssl,ld-linux,libjansson TMPDIR="$tmp/w" HOME=/root \
      "$bin" prune --json --repository "$reg/fmpw/x" --now 2035-01-01T00:00:00Z --insecure-registry "$reg" |
      LD_PRELOAD= FAILMALLOC_N= FAILMALLOC_REPORT= sed -E 's/sha256:[0-9a-f]{64}/sha256:D/g'
  }
  # promote's writes: each run promotes the development image to a new
  # release v1.0.<N> in a repository of its own (so the blobs are mounted
  # and every tag written every time): the mounts, the manifest PUTs, the
  # settling, the failure report. N is normalised (outside the shim).
  promote_writes() {
    local i
    read -r i <"$tmp/ctr"
    echo $((i + 1)) >"$tmp/ctr"
    FAILMALLOC_SPARE=libcrypto,libssl,ld-linux,libjansson TMPDIR="$tmp/w" HOME=/root SOURCE_DATE_EPOCH=1800000000 \
      "$bin" promote --json --from development --ref "refs/tags/v1.0.$i" --sha $sha \
      --service failmalloc --dev-registry "$reg/fmdev" --prod-registry "$reg/fmpw-prod$i" \
      --insecure-registry "$reg" |
      LD_PRELOAD= FAILMALLOC_N= FAILMALLOC_REPORT= sed -E 's/v1\.0\.[0-9]+/v1.0.N/g; s/"1\.0\.[0-9]+"/"1.0.N"/g; s/fmpw-prod[0-9]+/fmpw-prodN/g'
  }
  [ "${FAILMALLOC_ONLY:-promotewrites}" != promotewrites ] ||
    FAILMALLOC_EVERY=${FAILMALLOC_EVERY:-4} run_case "promote (writes: mounts, PUTs, settle, report; one allocation in ${FAILMALLOC_EVERY:-4})" -- promote_writes
  # promote verifies, carries and counter-signs (issue 20): the source
  # signed at push (outside the shim), each run to a repository of its
  # own: the gate's reads, the carry (mounts, the .sig PUT, the settling
  # read), the counter-signature.
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp/ci.pem" 2>/dev/null
  openssl pkey -in "$tmp/ci.pem" -pubout -out "$tmp/ci.pub"
  REGPUSH_SIGNING_KEY=$(cat "$tmp/ci.pem") TMPDIR="$tmp/w" "$bin" push --source "oci-archive:$REGPUSH_TEST_IMAGES/rev.tar" \
    --ref refs/heads/main --sha $sha --service failmallocv --dev-registry "$reg/fmdev" \
    --insecure-registry "$reg" >/dev/null 2>&1
  promote_verified() {
    local i
    read -r i <"$tmp/ctr"
    echo $((i + 1)) >"$tmp/ctr"
    REGPUSH_SIGNING_KEY=$signkey FAILMALLOC_SPARE=libcrypto,libssl,ld-linux,libjansson TMPDIR="$tmp/w" HOME=/root \
      SOURCE_DATE_EPOCH=1800000000 "$bin" promote --json --from development --ref "refs/tags/v1.0.$i" --sha $sha \
      --service failmallocv --dev-registry "$reg/fmdev" --prod-registry "$reg/fmpv-prod$i" \
      --insecure-registry "$reg" --verify-key "$tmp/ci.pub" |
      LD_PRELOAD= FAILMALLOC_N= FAILMALLOC_REPORT= sed -E 's/v1\.0\.[0-9]+/v1.0.N/g; s/"1\.0\.[0-9]+"/"1.0.N"/g; s/fmpv-prod[0-9]+/fmpv-prodN/g'
  }
  [ "${FAILMALLOC_ONLY:-promoteverified}" != promoteverified ] ||
    FAILMALLOC_EVERY=${FAILMALLOC_EVERY:-25} run_case "promote verified (the gate, the carry, the counter-signature; one allocation in ${FAILMALLOC_EVERY:-25})" -- promote_verified
  [ "${FAILMALLOC_ONLY:-prunedeletes}" != prunedeletes ] ||
    FAILMALLOC_EVERY=${FAILMALLOC_EVERY:-3} run_case "prune (deletes by digest, report; one allocation in ${FAILMALLOC_EVERY:-3})" -- prune_deletes
  also_ok=
  [ "${FAILMALLOC_ONLY:-promote}" != promote ] ||
    FAILMALLOC_EVERY=${FAILMALLOC_EVERY:-2} run_case "promote --dry-run (from development: source, labels, decision, report; one allocation in ${FAILMALLOC_EVERY:-2})" -- promote_dry_run
  [ "${FAILMALLOC_ONLY:-prune}" != prune ] ||
    run_case "prune --dry-run (tag list, ages, classification, table)" -- prune_dry_run
  # audit of a development repository: the reads, prune's view, the
  # rules, the findings (dev-0000001 expired, nightly of no pattern:
  # warnings, so exit 0).
  for t in dev-0000001 dev-latest nightly; do
    skopeo copy -q --dest-tls-verify=false "oci-archive:$REGPUSH_TEST_IMAGES/one.tar" \
      "docker://$reg/fmaudit/x:$t"
  done
  audit_run() {
    FAILMALLOC_SPARE=libcrypto,libssl,ld-linux,libjansson TMPDIR="$tmp/w" HOME=/root \
      "$bin" audit --json --repository "$reg/fmaudit/x" --dev-registry "$reg/fmaudit" \
      --now 2035-01-01T00:00:00Z --insecure-registry "$reg"
  }
  [ "${FAILMALLOC_ONLY:-audit}" != audit ] ||
    FAILMALLOC_EVERY=${FAILMALLOC_EVERY:-2} run_case "audit (reads, prune's view, rules, findings; one allocation in ${FAILMALLOC_EVERY:-2})" -- audit_run
  [ -z "$(ls -A "$tmp/w")" ] || { echo "failmalloc: left files behind: $(ls -A "$tmp/w")" >&2; exit 1; }
fi
