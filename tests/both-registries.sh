#!/bin/bash
# both-registries.sh TESTS [FLAGS...]: the Criterion suite TESTS against
# distribution 2.8 (every test), then its push, promote and prune suites
# against go-containerregistry's registry (tests/on-registry.sh ggcr).
# Inside tests/with-registries.sh. Both passes run; the exit status is
# the first failure's.
set -uo pipefail
tests=$1
shift
"$tests" --jobs 2 "$@"
rc=$?
echo "both-registries: push, promote, prune, audit and sign again on go-containerregistry's registry" >&2
bash "$(dirname "$0")/on-registry.sh" ggcr "$tests" --jobs 2 --filter='@(push|promote|prune|audit|sign)/*' "$@"
rc2=$?
[ "$rc" -ne 0 ] && exit "$rc"
exit "$rc2"
