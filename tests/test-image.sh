#!/bin/bash
# make test-image: what ships, tested as users get it. Runs under
# tests/with-registries.sh and tests/with-docker.sh.
#
#   1. scripts/release.sh --image build/image/regpush.tar against the plain
#      test registry and a local bare git repository, checked at both ends:
#      the pinned reference, every registry tag on its digest, the pinned
#      action.yml in the pushed git tag (a child of HEAD changing only
#      action.yml), forward-only vX.Y / vX, an idempotent rerun, and the
#      refusals (exit 3) that leave the remote and the registry unchanged;
#   2. the released image pulled by digest into the Docker Engine, and the
#      action tests (action/*) run through it as the runner runs it.
#
#   tests/test-image.sh BUILD/tests [criterion flags...]
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
tests=$1
shift
archive=$here/build/image/regpush.tar
rel=$here/scripts/release.sh
host=$REGPUSH_TEST_PLAIN
org=$host/release
tmp=$(mktemp -d /tmp/regpush-release.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fails=0
ok() { echo "test-image: ok: $*" >&2; }
bad() { echo "test-image: FAIL: $*" >&2; fails=$((fails + 1)); }
check() { # check WHAT GOT WANT
  if [ "$2" = "$3" ]; then ok "$1"; else bad "$1: got '$2', want '$3'"; fi
}
digest_of() { # digest_of REPO TAG -> Docker-Content-Digest, or "absent"
  local h
  h=$(curl -s -o /dev/null -D - --max-time 10 -I \
    -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    -H 'Accept: application/vnd.oci.image.index.v1+json' \
    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    "http://$host/v2/$1/manifests/$2" | tr -d '\r')
  case $h in
    "HTTP/1.1 200"*) echo "$h" | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: //p' ;;
    *) echo absent ;;
  esac
}
remote=$tmp/remote.git
git init -q --bare "$remote"
R=(git --git-dir="$remote")
refs() { "${R[@]}" for-each-ref --format='%(refname) %(objectname)' refs/tags | sort; }
release() { # release LOGNAME ARGS... -> exit status in $rc, stdout in $out
  local name=$1
  shift
  set +e
  out=$(bash "$rel" --registry "$org" --remote "$remote" --insecure-registry "$host" "$@" 2>"$tmp/$name.err")
  rc=$?
  set -e
}
head=$(git -C "$here" rev-parse HEAD)

# --- a first release, signed with a release key (cosign's own format) ------
(cd "$tmp" && COSIGN_PASSWORD="release pw" "$REGPUSH_TEST_COSIGN" generate-key-pair --output-key-prefix rel >/dev/null 2>&1)
REGPUSH_SIGNING_KEY=$(cat "$tmp/rel.key") REGPUSH_SIGNING_KEY_PASSPHRASE="release pw"
export REGPUSH_SIGNING_KEY REGPUSH_SIGNING_KEY_PASSPHRASE
release v1.2.0 --image "$archive" v1.2.0
unset REGPUSH_SIGNING_KEY REGPUSH_SIGNING_KEY_PASSPHRASE
check "release v1.2.0 exits 0 ($(tail -n 3 "$tmp/v1.2.0.err" | tr '\n' ' '))" "$rc" 0
pinned=$(echo "$out" | tail -n 1)
digest=${pinned#"$org/regpush@"}
[[ $pinned =~ ^$org/regpush@sha256:[0-9a-f]{64}$ ]] && ok "last line is the pinned reference $pinned" ||
  bad "last line '$pinned' is not $org/regpush@sha256:<hex>"
check "the digest is the archive's" "$digest" \
  "sha256:$(skopeo inspect --raw "oci-archive:$archive" | sha256sum | cut -d' ' -f1)"
for t in v1.2.0 v1.2 v1 latest; do
  check "registry regpush:$t" "$(digest_of release/regpush "$t")" "$digest"
done
# The action's image verifies as the README says users verify it.
if HOME=$tmp "$REGPUSH_TEST_COSIGN" verify --key "$tmp/rel.pub" --insecure-ignore-tlog \
     --allow-insecure-registry --allow-http-registry -a dev.regpush.ref=refs/tags/v1.2.0 \
     -a dev.regpush.environment=production "$pinned" >/dev/null 2>"$tmp/verify.err"; then
  ok "cosign verify --key accepts the released image $pinned"
else
  bad "cosign verify of $pinned: $(tail -n 2 "$tmp/verify.err" | tr '\n' ' ')"
fi
grep -q "^release: signed: sha256:[0-9a-f]\{64\} (key sha256:[0-9a-f]\{64\})\$" "$tmp/v1.2.0.err" &&
  ok "the script says the signature and the key" || bad "no signature line in $(tail -n 3 "$tmp/v1.2.0.err")"
grep -q "$(sed -n 2p "$tmp/rel.key")" "$tmp/v1.2.0.err" && bad "the key reached the log" ||
  ok "the key is not in the log"
c120=$("${R[@]}" rev-parse -q --verify 'refs/tags/v1.2.0^{commit}' || echo none)
[ "$c120" != none ] && ok "git v1.2.0 was pushed" || bad "git v1.2.0 was not pushed"
check "the release commit's parent is HEAD" "$("${R[@]}" rev-parse "$c120^" 2>/dev/null || echo none)" "$head"
check "the release commit changes action.yml only" \
  "$("${R[@]}" diff --name-only "$c120^" "$c120" 2>/dev/null | tr '\n' ' ')" "action.yml "
check "action.yml in v1.2.0 runs the pinned image" \
  "$("${R[@]}" show v1.2.0:action.yml 2>/dev/null | grep '^  image: ')" "  image: docker://$pinned"
check "action.yml in v1.2.0 is HEAD's but for that line" \
  "$("${R[@]}" show v1.2.0:action.yml 2>/dev/null | grep -v '^  image: ' | sha256sum)" \
  "$(git -C "$here" show HEAD:action.yml | grep -v '^  image: ' | sha256sum)"
for t in v1.2 v1; do
  check "git $t is the release commit" "$("${R[@]}" rev-parse -q --verify "refs/tags/$t^{commit}" || echo none)" "$c120"
done
check "main was not pushed" "$("${R[@]}" for-each-ref refs/heads | wc -l)" 0

# --- a rerun changes nothing ----------------------------------------------
before=$(refs)
release rerun --image "$archive" v1.2.0
check "a rerun of v1.2.0 exits 0" "$rc" 0
check "a rerun leaves the remote's tags" "$(refs)" "$before"

# --- an older release after a newer one -----------------------------------
release v1.1.0 --image "$archive" v1.1.0
check "release v1.1.0 exits 0 ($(tail -n 2 "$tmp/v1.1.0.err" | tr '\n' ' '))" "$rc" 0
c110=$("${R[@]}" rev-parse -q --verify 'refs/tags/v1.1.0^{commit}' || echo none)
[ "$c110" != none ] && [ "$c110" != "$c120" ] && ok "v1.1.0 has a release commit of its own" ||
  bad "v1.1.0's commit is '$c110'"
check "git v1.1 is v1.1.0's" "$("${R[@]}" rev-parse -q --verify 'refs/tags/v1.1^{commit}' || echo none)" "$c110"
check "git v1 stays on v1.2.0" "$("${R[@]}" rev-parse -q --verify 'refs/tags/v1^{commit}' || echo none)" "$c120"
grep -q "v1 stays where it is" "$tmp/v1.1.0.err" && ok "the script says v1 stays" || bad "no word on v1 staying"

# --- refusals: nothing reaches the remote or the registry ------------------
# v1.3.0 exists in the registry with another image.
"$here/build/static/regpush" push --source "oci-archive:$REGPUSH_TEST_IMAGES/one.tar" \
  --prod-registry "$org" --service regpush --ref refs/tags/v1.3.0 --sha "$head" --event push \
  --insecure-registry "$host" >/dev/null 2>"$tmp/other.err" || bad "pushing another image as v1.3.0"
other=$(digest_of release/regpush v1.3.0)
before=$(refs)
release v1.3.0 --image "$archive" v1.3.0
check "a v1.3.0 that exists with another digest is refused" "$rc" 3
check "the refused release pushed nothing to the remote" "$(refs)" "$before"
check "the refused release left the registry's v1.3.0" "$(digest_of release/regpush v1.3.0)" "$other"
# v1.4.0 exists in git at another commit.
git -C "$here" push -q "$remote" "$head:refs/tags/v1.4.0"
before=$(refs)
release v1.4.0 --image "$archive" v1.4.0
check "a git v1.4.0 at another commit is refused" "$rc" 3
check "... with nothing pushed to the remote" "$(refs)" "$before"
check "... or to the registry" "$(digest_of release/regpush v1.4.0)" absent
# An image built from another commit.
release wrongrev --image "$REGPUSH_TEST_IMAGES/one.tar" v1.5.0
check "an image without HEAD's revision label is refused" "$rc" 3
check "... with nothing in the registry" "$(digest_of release/regpush v1.5.0)" absent
release badversion --image "$archive" v1.6
check "a version that is not vX.Y.Z is exit 2" "$rc" 2
if [ "$fails" -ne 0 ]; then
  echo "test-image: $fails release check(s) failed; the script's stderr:" >&2
  tail -n 5 "$tmp"/*.err >&2
  exit 1
fi

# --- the released image, as the runner runs it ----------------------------
echo "test-image: docker pull $pinned" >&2
docker pull -q "$pinned" >/dev/null
REGPUSH_ACTION_IMAGE=$pinned REGPUSH_BIN=$here/build/static/regpush REGPUSH_SRC=$here \
  "$tests" --jobs 1 --filter 'action/*' "$@"
