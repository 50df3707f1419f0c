#!/bin/bash
# Releases regpush: the action image pushed with regpush itself, and a
# release commit that pins it by digest, tagged in git.
#
#   scripts/release.sh --registry HOST/ORG --remote GIT_URL
#                      [--insecure-registry HOST] [--image ARCHIVE] vX.Y.Z
#
#   1. the image: ARCHIVE (an OCI archive of the image, as `make image`
#      writes build/image/regpush.tar), or built now with `make image`
#      from a clean work tree. Its org.opencontainers.image.revision label
#      must name HEAD, the commit being released;
#   2. a dry run of `regpush push` to HOST/ORG/regpush as the release of
#      vX.Y.Z (immutable vX.Y.Z; vX.Y, vX and latest only forward), which
#      gives the digest and refuses (exit 3) a vX.Y.Z that exists with
#      another digest;
#   3. the release commit: a child of HEAD whose only change is action.yml
#      saying image: docker://HOST/ORG/regpush@sha256:<digest> (author,
#      committer and dates are HEAD's, so a rerun makes the same commit);
#      refused (exit 3) when GIT_URL's vX.Y.Z names another commit;
#   4. the push, with regpush (credentials: REGPUSH_RELEASE_USERNAME and
#      REGPUSH_RELEASE_PASSWORD, read by regpush from the environment);
#      with REGPUSH_SIGNING_KEY (and REGPUSH_SIGNING_KEY_PASSPHRASE) set —
#      the release key, cosign's format or PKCS#8 — regpush signs the
#      image with it before any tag is written, as cosign signs, and this
#      script says the signature's digest and the key's fingerprint;
#   5. git: vX.Y.Z, then vX.Y and vX moved to the release commit exactly
#      when regpush moved (or wrote) the registry tags of the same name:
#      an older release after a newer one moves neither. main is never
#      changed. Nothing reaches GIT_URL when any step before failed.
# The last line of stdout is the pinned reference HOST/ORG/regpush@sha256:…
# Exit codes are regpush's: 2 bad usage, 3 refused, 1 anything else.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
say() { echo "release: $*" >&2; }
die() { say "$2"; exit "$1"; }
usage() { die 2 "usage: $0 --registry HOST/ORG --remote GIT_URL [--insecure-registry HOST] [--image ARCHIVE] vX.Y.Z"; }

registry="" remote="" image="" version=""
insecure=()
while [ $# -gt 0 ]; do
  case $1 in
    --registry) [ $# -ge 2 ] || usage; registry=$2; shift 2 ;;
    --remote) [ $# -ge 2 ] || usage; remote=$2; shift 2 ;;
    --insecure-registry) [ $# -ge 2 ] || usage; insecure+=(--insecure-registry "$2"); shift 2 ;;
    --image) [ $# -ge 2 ] || usage; image=$2; shift 2 ;;
    -h|--help) usage ;;
    -*) say "unknown option $1"; usage ;;
    *) [ -z "$version" ] || usage; version=$1; shift ;;
  esac
done
[ -n "$registry" ] && [ -n "$remote" ] && [ -n "$version" ] || usage
[[ $version =~ ^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$ ]] ||
  die 2 "the version must be a stable release vX.Y.Z, not '$version'"
major=v${BASH_REMATCH[1]}
minor=$major.${BASH_REMATCH[2]}

regpush=$here/build/static/regpush
git=(git -C "$here")
head=$("${git[@]}" rev-parse --verify HEAD^{commit})

if [ -z "$image" ]; then
  [ -z "$("${git[@]}" status --porcelain --untracked-files=no)" ] ||
    die 2 "the work tree has changes: the image must be built from HEAD ($head) alone"
  make -C "$here" --no-print-directory image >&2
  image=$here/build/image/regpush.tar
fi
[ -x "$regpush" ] || die 2 "$regpush is missing: run make static"
[ -f "$image" ] || die 2 "no image archive $image"
case $image in /*) ;; *) image=$PWD/$image ;; esac

# The image must be HEAD's: its revision label says what it was built from.
rev=$(skopeo inspect --config "oci-archive:$image" | python3 -c \
  'import json,sys; print(((json.load(sys.stdin).get("config") or {}).get("Labels") or {}).get("org.opencontainers.image.revision",""))')
[ "$rev" = "$head" ] ||
  die 3 "the image $image was built from '${rev:-no revision label}', not HEAD $head: nothing was pushed"

# What regpush's own release needs: the release context of vX.Y.Z.
# GITHUB_* of the workflow running this script would otherwise be read.
push=("$regpush" push --source "oci-archive:$image" --prod-registry "$registry"
      --service regpush --ref "refs/tags/$version" --sha "$head" --event push
      "${insecure[@]}" --json)
run_push() { env -u GITHUB_ACTIONS -u GITHUB_EVENT_PATH -u GITHUB_WORKFLOW_REF "$@"; }

set +e
planned=$(run_push "${push[@]}" --dry-run)
rc=$?
set -e
[ "$rc" -eq 0 ] || die "$rc" "regpush push --dry-run refused or failed (exit $rc): nothing was pushed"
# regpush's --json report.
report='import json, sys
j = json.load(sys.stdin)
'
field() { python3 -c "$report"'print(j[sys.argv[1]])' "$1"; }
digest=$(echo "$planned" | field digest)
repository=$(echo "$planned" | field repository)
pinned=$repository@$digest

# The release commit: HEAD with action.yml's image pinned, made in a
# private index (the work tree and the branch are left alone).
grep -q '^  image: Dockerfile$' <("${git[@]}" show HEAD:action.yml) ||
  die 2 "HEAD's action.yml has no 'image: Dockerfile' line to pin"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"${git[@]}" show HEAD:action.yml | sed "s|^  image: Dockerfile\$|  image: docker://$pinned|" >"$tmp/action.yml"
blob=$("${git[@]}" hash-object -w "$tmp/action.yml")
export GIT_INDEX_FILE=$tmp/index
"${git[@]}" read-tree HEAD
"${git[@]}" update-index --cacheinfo "100644,$blob,action.yml"
tree=$("${git[@]}" write-tree)
unset GIT_INDEX_FILE
fmt() { "${git[@]}" log -1 --format="$1" HEAD; }
commit=$(GIT_AUTHOR_NAME=$(fmt %an) GIT_AUTHOR_EMAIL=$(fmt %ae) GIT_AUTHOR_DATE=$(fmt %aI) \
         GIT_COMMITTER_NAME=$(fmt %cn) GIT_COMMITTER_EMAIL=$(fmt %ce) GIT_COMMITTER_DATE=$(fmt %cI) \
         "${git[@]}" commit-tree "$tree" -p "$head" -m "regpush $version

action.yml runs the released image, pinned by digest:
  image: docker://$pinned")

have=$("${git[@]}" ls-remote "$remote" "refs/tags/$version" | cut -f1)
[ -z "$have" ] || [ "$have" = "$commit" ] ||
  die 3 "$remote already has $version at $have, not the release commit $commit: nothing was pushed"

set +e
pushed=$(run_push "${push[@]}")
rc=$?
set -e
[ "$rc" -eq 0 ] || { echo "$pushed" >&2; die "$rc" "regpush push failed (exit $rc): nothing was pushed to $remote"; }
status_of() { # the status of registry tag $1 in regpush's report
  echo "$pushed" | python3 -c "$report"'
print(next((r["status"] for r in j["results"] if r["tag"] == sys.argv[1]), "absent"))' "$1"
}
refs=("$commit:refs/tags/$version")
for t in "$minor" "$major"; do
  case $(status_of "$t") in
    pushed|unchanged) refs+=("+$commit:refs/tags/$t") ;;
    kept) say "$t stays where it is: a newer release has it (latest: $(status_of latest))" ;;
    *) die 1 "regpush reported '$t' as $(status_of "$t")" ;;
  esac
done
"${git[@]}" push -q "$remote" "${refs[@]}" >&2
if [ -n "${REGPUSH_SIGNING_KEY:-}" ]; then
  say "signed: $(echo "$pushed" | field signature) (key $(echo "$pushed" | field signed_by))"
fi
say "released $version: commit $commit, git tags ${refs[*]##*refs/tags/}"
echo "$pinned"
