#!/bin/sh
# make demo: real pushes to a local registry, as the example workflows
# run regpush: build once (dev-build.yml pushes the commit's image), then
# promote that digest (release.yml: candidate to staging, release to
# production). Run through tests/with-registries.sh, which starts the
# registry, builds the images offline (rev.tar is labelled with the
# demo's commit), and stops it all after.
set -eu
bin=$1
reg=$REGPUSH_TEST_PLAIN
img=$REGPUSH_TEST_IMAGES
sha=0123456789abcdef0123456789abcdef01234567
export GITHUB_SHA=$sha GITHUB_REPOSITORY=kubernaut/gateway GITHUB_EVENT_NAME=push
common="--dev-registry $reg/jordigilh --prod-registry $reg/kubernaut --insecure-registry $reg"

step() { # step TITLE REF COMMAND ARGS...
  echo
  echo "==== $1"
  ref=$2
  shift 2
  # shellcheck disable=SC2086
  GITHUB_REF=$ref "$bin" "$@" $common 2>&1 | grep -v '^+ ' || true
}

step "dev-build workflow: push to feature/login-page" refs/heads/feature/login-page \
  push --source "oci-archive:$img/rev.tar"
step "dev-build workflow: push to develop" refs/heads/develop push --source "oci-archive:$img/rev.tar"
step "release workflow: tag v1.0.0-rc1 (promotes dev-0123456 to staging, no rebuild)" \
  refs/tags/v1.0.0-rc1 promote --from previous
step "release workflow: tag v1.0.0 (promotes the candidate to production)" refs/tags/v1.0.0 \
  promote --from previous
step "a push of v1.0.0 with another image (refused, exit 3)" refs/tags/v1.0.0 \
  push --source "oci-archive:$img/two.tar"

echo
echo "==== what the registry holds"
for repo in jordigilh/gateway kubernaut/gateway; do
  echo "$reg/$repo"
  for t in $(skopeo list-tags --tls-verify=false "docker://$reg/$repo" |
             sed -n 's/^ *"\([^"]*\)",\{0,1\}$/\1/p' | sort); do
    d=$(skopeo inspect --raw --tls-verify=false "docker://$reg/$repo:$t" | sha256sum | cut -c1-64)
    printf '  %-24s sha256:%s\n' "$t" "$d"
  done
done

echo
echo "==== audit workflow: the registry against the policy (no drift: exit 0)"
# shellcheck disable=SC2086
"$bin" audit --service gateway $common
