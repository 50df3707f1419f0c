#!/bin/sh
# make demo (plan-only until push lands): what regpush decides for the
# refs the dev-build and release workflows run on.
set -eu
bin=$1
sha=$(printf 'regpush demo' | sha1sum | cut -c1-40)
for ref in refs/heads/feature/login-page refs/heads/develop refs/tags/v1.0.0-rc1 refs/tags/v1.0.0; do
  echo "== $ref"
  "$bin" plan --ref "$ref" --sha "$sha" --service gateway
done
