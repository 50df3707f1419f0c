#!/bin/sh
# Runs the main paths of regpush under valgrind and fails on any leak
# (definite, indirect or possible) or memory error. "Still reachable"
# blocks are not counted: the dynamic loader keeps a few for the libraries
# that libcurl pulls in and that cannot be unloaded (GnuTLS, p11-kit). Usage: tests/valgrind.sh build/regpush
set -eu
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
sha=0123456789abcdef0123456789abcdef01234567
: >"$tmp/out"; : >"$tmp/sum"
printf '{"pull_request":{"number":5,"head":{"sha":"%s"}}}' "$sha" >"$tmp/ev.json"
printf 'version: 1\nsha-length: 9\nbranches:\n  dev-latest: [main]\n' >"$tmp/p.yaml"

vg() {
  want=$1; shift
  set +e
  valgrind -q --trace-children=yes --leak-check=full --show-leak-kinds=definite,indirect,possible --errors-for-leak-kinds=definite,indirect,possible \
    --error-exitcode=99 "$@" >/dev/null 2>"$tmp/vg.log"
  rc=$?
  set -e
  if [ "$rc" -ne "$want" ]; then
    echo "valgrind: exit $rc (want $want): $*" >&2
    cat "$tmp/vg.log" >&2
    exit 1
  fi
}

vg 0 "$bin" plan --json --ref refs/tags/v1.2.3 --sha $sha --service gateway
vg 0 "$bin" plan --ref refs/tags/v1.2.3-rc.1+b --sha $sha --service gateway
vg 0 "$bin" plan --ref refs/heads/feature/x --sha $sha --service gateway --policy "$tmp/p.yaml"
vg 0 env GITHUB_ACTIONS=true INPUT_MODE=plan GITHUB_REF=refs/pull/5/merge GITHUB_SHA=$sha \
  GITHUB_EVENT_NAME=pull_request GITHUB_EVENT_PATH="$tmp/ev.json" GITHUB_REPOSITORY=a/gw \
  GITHUB_OUTPUT="$tmp/out" GITHUB_STEP_SUMMARY="$tmp/sum" INPUT_INSECURE-REGISTRIES=a.io,b.io:5000 \
  "$bin"
vg 0 "$bin" policy --policy "$tmp/p.yaml"
vg 2 "$bin" plan --ref refs/tags/v01.2.3 --sha $sha --service gateway
vg 3 "$bin" plan --ref refs/tags/v1.2.3 --event pull_request --sha $sha --service gateway
vg 2 "$bin" plan --ref refs/heads/x --sha $sha --service gateway --policy /dev/zero
printf 'version: 1\nbranches: {dev-latest: [a, *b]}\n' >"$tmp/bad.yaml"
vg 2 "$bin" plan --ref refs/heads/x --sha $sha --service gateway --policy "$tmp/bad.yaml"

# The push path, against the test registry when tests/with-registries.sh
# started one. Only regpush runs under valgrind (skopeo is Go).
if [ -n "${REGPUSH_TEST_PLAIN:-}" ]; then
  r=$REGPUSH_TEST_PLAIN
  src=oci-archive:$REGPUSH_TEST_IMAGES/one.tar
  export TMPDIR="$tmp" REGPUSH_DEV_USERNAME=u REGPUSH_DEV_PASSWORD=p
  vgp() {
    want=$1; shift
    set +e
    valgrind -q --leak-check=full --show-leak-kinds=definite,indirect,possible --errors-for-leak-kinds=definite,indirect,possible \
      --error-exitcode=99 "$@" >/dev/null 2>"$tmp/vg.log"
    rc=$?
    set -e
    if [ "$rc" -ne "$want" ]; then
      echo "valgrind: exit $rc (want $want): $*" >&2; cat "$tmp/vg.log" >&2; exit 1
    fi
  }
  vgp 0 "$bin" push --source "$src" --ref refs/tags/v1.0.0 --sha $sha --service vg \
    --prod-registry "$r/vg" --insecure-registry "$r"
  vgp 0 "$bin" push --source "$src" --ref refs/tags/v1.0.0 --sha $sha --service vg \
    --prod-registry "$r/vg" --insecure-registry "$r" --json
  vgp 3 "$bin" push --source "oci-archive:$REGPUSH_TEST_IMAGES/two.tar" --ref refs/tags/v1.0.0 \
    --sha $sha --service vg --prod-registry "$r/vg" --insecure-registry "$r"
  vgp 0 "$bin" push --dry-run --source "$src" --ref refs/heads/feature/x --sha $sha --service vg \
    --dev-registry "$r/vg" --insecure-registry "$r"
  export REGPUSH_RETRY_BASE_MS=20
  vgp 1 "$bin" push --source "$src" --ref refs/heads/main --sha $sha --service vg \
    --dev-registry 127.0.0.1:9/vg --insecure-registry 127.0.0.1:9
  t=$REGPUSH_TEST_TOKENREG
  export REGPUSH_RELEASE_USERNAME=$REGPUSH_TEST_USER REGPUSH_RELEASE_PASSWORD=$REGPUSH_TEST_PASS
  vgp 0 "$bin" push --source "oci-archive:$REGPUSH_TEST_IMAGES/multi.tar" --ref refs/tags/v2.0.0 \
    --sha $sha --service vg --prod-registry "$t/vg" --insecure-registry "$t" \
    --insecure-registry "$REGPUSH_TEST_TOKENSRV"
  # A signed index (issue 20): the key loaded, the index and each child
  # signed, the .sig images read, merged and written.
  REGPUSH_SIGNING_KEY=$(openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 2>/dev/null)
  export REGPUSH_SIGNING_KEY
  vgp 0 "$bin" push --source "oci-archive:$REGPUSH_TEST_IMAGES/multi.tar" --ref refs/tags/v3.0.0 \
    --sha $sha --service vgs --prod-registry "$r/vg" --insecure-registry "$r"
  unset REGPUSH_SIGNING_KEY
  # A single image signed while it uploads, with cosign's own key
  # (decrypted on a thread) through the token registry (the signing
  # thread's client gets its own token); then a wrong passphrase (exit 2).
  if [ -n "${REGPUSH_TEST_COSIGN:-}" ]; then
    (cd "$tmp" && COSIGN_PASSWORD=pw "$REGPUSH_TEST_COSIGN" generate-key-pair >/dev/null 2>&1)
    REGPUSH_SIGNING_KEY=$(cat "$tmp/cosign.key") REGPUSH_SIGNING_KEY_PASSPHRASE=pw
    export REGPUSH_SIGNING_KEY REGPUSH_SIGNING_KEY_PASSPHRASE
    GITHUB_REPOSITORY=o/vgc GITHUB_WORKFLOW_REF=o/vgc/.github/workflows/r.yml@refs/tags/v4.0.0 GITHUB_RUN_ID=7 \
      vgp 0 "$bin" push --source "$src" --ref refs/tags/v4.0.0 --sha $sha --service vgc --attest provenance \
      --prod-registry "$t/vg" --insecure-registry "$t" --insecure-registry "$REGPUSH_TEST_TOKENSRV"
    REGPUSH_SIGNING_KEY_PASSPHRASE=wrong vgp 2 "$bin" push --source "$src" --ref refs/tags/v4.1.0 \
      --sha $sha --service vgc --prod-registry "$r/vg" --insecure-registry "$r"
    unset REGPUSH_SIGNING_KEY REGPUSH_SIGNING_KEY_PASSPHRASE
  fi
  # buildah: upload to a scratch tag, then untag it (distribution 2.8:
  # through a manifest of its own).
  vgp 0 "$bin" push --engine buildah --source "$src" --ref refs/heads/main --sha $sha --service vgb \
    --dev-registry "$r/vg" --insecure-registry "$r"
  # Races through the fault proxy: a newer release appearing mid-write
  # (floating tags put on it), and the immutable tag overwritten after
  # the PUT (lost race, floating tags put back, exit 1).
  f=$REGPUSH_TEST_FAULT
  skopeo copy -q --dest-tls-verify=false "oci-archive:$REGPUSH_TEST_IMAGES/two.tar" "docker://$r/vg/f-race:seed"
  skopeo copy -q --dest-tls-verify=false "oci-archive:$REGPUSH_TEST_IMAGES/two.tar" "docker://$r/vg/f-steal:seed"
  vgp 0 "$bin" push --source "$src" --ref refs/tags/v1.2.3 --sha $sha --service f-race \
    --prod-registry "$f/vg" --insecure-registry "$f"
  vgp 1 "$bin" push --source "$src" --ref refs/tags/v1.2.3 --sha $sha --service f-steal \
    --prod-registry "$f/vg" --insecure-registry "$f"
  # promote: same-host mounts, then a refusal (another commit's image).
  export REGPUSH_DEV_USERNAME=u REGPUSH_DEV_PASSWORD=p
  skopeo copy -q --dest-tls-verify=false "oci-archive:$REGPUSH_TEST_IMAGES/revmulti.tar" "docker://$r/vgd/pm:dev-0123456"
  skopeo copy -q --dest-tls-verify=false "oci-archive:$REGPUSH_TEST_IMAGES/other.tar" "docker://$r/vgd/pmo:dev-0123456"
  vgp 0 "$bin" promote --from development --ref refs/tags/v1.0.0 --sha $sha --service pm \
    --dev-registry "$r/vgd" --prod-registry "$r/vgp" --insecure-registry "$r" --json
  vgp 3 "$bin" promote --from development --ref refs/tags/v1.0.0 --sha $sha --service pmo \
    --dev-registry "$r/vgd" --prod-registry "$r/vgp" --insecure-registry "$r"
  # promote verifies, carries and counter-signs (issue 20): an index
  # signed at push (its children too), the gate, the attachments of the
  # index and each child carried, the counter-signature; then a refusal
  # (no signature by the verify key).
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp/ci.pem" 2>/dev/null
  openssl pkey -in "$tmp/ci.pem" -pubout -out "$tmp/ci.pub"
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp/o.pem" 2>/dev/null
  openssl pkey -in "$tmp/o.pem" -pubout -out "$tmp/o.pub"
  REGPUSH_SIGNING_KEY=$(cat "$tmp/ci.pem") "$bin" push --source "oci-archive:$REGPUSH_TEST_IMAGES/revmulti.tar" \
    --ref refs/heads/main --sha $sha --service pv --dev-registry "$r/vgd" --insecure-registry "$r" >/dev/null 2>&1
  REGPUSH_SIGNING_KEY=$(cat "$tmp/o.pem") vgp 0 "$bin" promote --from development \
    --ref refs/tags/v1.0.0-rc.1 --sha $sha --service pv --dev-registry "$r/vgd" --prod-registry "$r/vgp" \
    --insecure-registry "$r" --verify-key "$tmp/ci.pub" --json
  vgp 0 "$bin" promote --from staging --ref refs/tags/v1.0.0 --sha $sha --service pv \
    --dev-registry "$r/vgd" --prod-registry "$r/vgp" --insecure-registry "$r" --verify-key "$tmp/ci.pub"
  vgp 2 "$bin" promote --from staging --ref refs/tags/v1.0.0 --sha $sha --service pv \
    --dev-registry "$r/vgd" --prod-registry "$r/vgp" --insecure-registry "$r" --verify-key "$tmp/missing.pub"
  REGPUSH_VERIFY_KEYS=$(cat "$tmp/o.pub") vgp 3 "$bin" promote --from development --ref refs/tags/v1.0.0-rc.2 \
    --sha $sha --service pmo --dev-registry "$r/vgd" --prod-registry "$r/vgp" --insecure-registry "$r" \
    --allow-revision-mismatch
  # prune: dry run, then real (untag, delete by digest, keep).
  skopeo copy -q --dest-tls-verify=false "oci-archive:$REGPUSH_TEST_IMAGES/one.tar" "docker://$r/vgpr/x:dev-1111111"
  skopeo copy -q --dest-tls-verify=false "oci-archive:$REGPUSH_TEST_IMAGES/one.tar" "docker://$r/vgpr/x:dev-latest"
  skopeo copy -q --all --dest-tls-verify=false "oci-archive:$REGPUSH_TEST_IMAGES/multi.tar" "docker://$r/vgpr/x:test-m"
  vgp 0 "$bin" prune --repository "$r/vgpr/x" --now 2035-01-01T00:00:00Z --insecure-registry "$r" --dry-run
  vgp 0 "$bin" prune --repository "$r/vgpr/x" --now 2035-01-01T00:00:00Z --insecure-registry "$r" --json
  # audit: what prune left (dev-latest) read as a production repository:
  # a development tag there is misplaced (exit 3), so the findings are made.
  vgp 3 "$bin" audit --repository "$r/vgpr/x" --prod-registry "$r/vgpr" --now 2035-01-01T00:00:00Z \
    --insecure-registry "$r" --json
  echo "valgrind: no leaks or errors on the push, promote, prune and audit paths"
fi
echo "valgrind: no leaks or errors on the plan paths"
