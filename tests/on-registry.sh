#!/bin/bash
# on-registry.sh ggcr|distribution COMMAND...: runs COMMAND with the
# registry the end-to-end suites call "plain" (and the fault proxy in front
# of it) being the one named: go-containerregistry's (`crane registry
# serve`) or distribution 2.8's. Inside tests/with-registries.sh, which
# starts both. Tests that depend on a behaviour the two implementations
# legitimately differ in read REGPUSH_TEST_REGISTRY.
set -euo pipefail
case ${1:-} in
  ggcr)
    export REGPUSH_TEST_PLAIN=$REGPUSH_TEST_GGCR REGPUSH_TEST_PLAIN_LOG=$REGPUSH_TEST_GGCR_LOG
    export REGPUSH_TEST_FAULT=$REGPUSH_TEST_GGCR_FAULT REGPUSH_TEST_FAULT_LOG=$REGPUSH_TEST_GGCR_FAULT_LOG
    export REGPUSH_TEST_REGISTRY=ggcr ;;
  distribution) export REGPUSH_TEST_REGISTRY=distribution ;;
  *) echo "usage: $0 ggcr|distribution COMMAND..." >&2; exit 2 ;;
esac
shift
exec "$@"
