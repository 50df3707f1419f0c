#!/bin/sh
# make demo: real pushes to a local registry, as the dev-build and release
# workflows would run regpush. Run through tests/with-registries.sh, which
# starts the registry, builds the images offline, and stops it all after.
set -eu
bin=$1
reg=$REGPUSH_TEST_PLAIN
img=$REGPUSH_TEST_IMAGES
sha=$(printf 'regpush demo' | sha1sum | cut -c1-40)
export GITHUB_SHA=$sha GITHUB_REPOSITORY=kubernaut/gateway GITHUB_EVENT_NAME=push
common="--dev-registry $reg/jordigilh --prod-registry $reg/kubernaut --insecure-registry $reg"

step() {
  echo
  echo "==== $1"
  shift
  # shellcheck disable=SC2086
  GITHUB_REF=$1 "$bin" push --source "$2" $common 2>&1 | grep -v '^+ ' || true
}

step "dev-build workflow: push to feature/login-page" refs/heads/feature/login-page "oci-archive:$img/one.tar"
step "dev-build workflow: push to develop" refs/heads/develop "oci-archive:$img/one.tar"
step "release workflow: tag v1.0.0-rc1 (two-platform image)" refs/tags/v1.0.0-rc1 "oci-archive:$img/multi.tar"
step "release workflow: tag v1.0.0" refs/tags/v1.0.0 "oci-archive:$img/multi.tar"
step "release workflow: v1.0.0 again with another image (refused, exit 3)" refs/tags/v1.0.0 "oci-archive:$img/two.tar"

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
