#!/bin/bash
# Starts what the end-to-end tests need, runs "$@", and stops it all again
# (also when the tests fail or are interrupted):
#   - TLS material (a CA and a server certificate) and an htpasswd file;
#   - test images built offline with buildah (vfs): oci-archive, OCI
#     layout, docker-archive, containers-storage, a second image, and a
#     two-platform OCI index;
#   - the peers, under one supervisor (tests/peers.py): a plain-HTTP
#     distribution registry with deletes enabled, a TLS one with htpasswd,
#     a token server and a registry using it, fault proxies, and
#     go-containerregistry's registry (scripts/crane.sh, cached). The
#     supervisor holds every peer as its child and fails the run naming
#     any peer that ends early; nothing is restarted.
# Everything lives under one temp directory, removed on exit.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

# The second phase, run by the supervisor with the peers up: a source
# image in each registry implementation, for docker://, then the command.
if [ "${1:-}" = --inside ]; then
  shift
  for r in "$REGPUSH_TEST_PLAIN" "$REGPUSH_TEST_GGCR"; do
    skopeo copy -q --dest-tls-verify=false "oci-archive:$REGPUSH_TEST_IMAGES/one.tar" \
      "docker://$r/sources/one:latest"
  done
  exec "$@"
fi

crane=$(bash "$here/../scripts/crane.sh" | tail -1)
# cosign, the signing oracle (trixie's package, unpacked and cached).
cosign=$(bash "$here/../scripts/cosign.sh" | tail -1)
root=$(mktemp -d /tmp/regpush-e2e.XXXXXX)
trap 'rm -rf "$root"' EXIT

# --- TLS material and htpasswd -------------------------------------------
mkdir -p "$root/ca" "$root/certs"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=regpush test CA" \
  -keyout "$root/ca/ca.key" -out "$root/ca/ca.crt" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
  -keyout "$root/certs/server.key" -out "$root/certs/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$root/certs/ext"
openssl x509 -req -in "$root/certs/server.csr" -CA "$root/ca/ca.crt" -CAkey "$root/ca/ca.key" \
  -CAcreateserial -days 2 -extfile "$root/certs/ext" -out "$root/certs/server.crt" 2>/dev/null
user=robot+ci
pass=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
htpasswd -Bbn "$user" "$pass" >"$root/htpasswd" 2>/dev/null
# What a user would pass as --cert-dir: CA certificates only (skopeo pairs
# any *.key in it with a client certificate).
mkdir -p "$root/cacerts"
cp "$root/ca/ca.crt" "$root/cacerts/ca.crt"

# --- the token server's signing key ---
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=regpush token signer" \
  -keyout "$root/token.key" -out "$root/token.crt" 2>/dev/null

# --- images ---------------------------------------------------------------
img=$root/images
mkdir -p "$img"
B=(buildah --root "$root/storage" --runroot "$root/run" --storage-driver vfs)
mk() { # mk TAG ARCH CONTENT [LABEL=VALUE...]
  local c l; c=$("${B[@]}" from scratch)
  printf '%s\n' "$3" >"$root/content"
  "${B[@]}" copy "$c" "$root/content" /content.txt >/dev/null
  "${B[@]}" config --arch "$2" --os linux --label "org.example=$1" "$c"
  for l in "${@:4}"; do "${B[@]}" config --label "$l" "$c"; done
  "${B[@]}" commit -q "$c" "localhost/regpush-test:$1" >/dev/null
  "${B[@]}" rm "$c" >/dev/null
}
mk one amd64 "image one"
mk two amd64 "image two"
mk arm arm64 "image one (arm64)"
"${B[@]}" push -q localhost/regpush-test:one "oci-archive:$img/one.tar:one"
"${B[@]}" push -q localhost/regpush-test:two "oci-archive:$img/two.tar:two"
"${B[@]}" push -q localhost/regpush-test:one "oci:$img/layout:one"
"${B[@]}" push -q localhost/regpush-test:one "docker-archive:$img/one-docker.tar:regpush-test:one"
"${B[@]}" manifest create regpush-multi >/dev/null
"${B[@]}" manifest add regpush-multi containers-storage:localhost/regpush-test:one >/dev/null
"${B[@]}" manifest add regpush-multi containers-storage:localhost/regpush-test:arm >/dev/null
"${B[@]}" manifest push -q --all --format oci regpush-multi "oci-archive:$img/multi.tar:multi"
# Images labelled as built from the tests' commit (SHA40 in helpers.h), for
# promote: single and two-platform, one that would expire (a Quay label),
# and one built from another commit.
sha40=0123456789abcdef0123456789abcdef01234567
rev=org.opencontainers.image.revision
mk rev amd64 "rev image" "$rev=$sha40"
mk revarm arm64 "rev image (arm64)" "$rev=$sha40"
mk revexp amd64 "rev image that expires" "$rev=$sha40" "quay.expires-after=30d"
mk other amd64 "another commit" "$rev=89abcdef0123456789abcdef0123456789abcdef"
mk rc9 amd64 "rc.9" "$rev=$sha40"
# A reproducible build: created is the epoch (prune: age unknown, kept).
c=$("${B[@]}" from scratch)
printf 'epoch\n' >"$root/content"
"${B[@]}" copy "$c" "$root/content" /content.txt >/dev/null
"${B[@]}" config --arch amd64 --os linux "$c"
"${B[@]}" commit -q --timestamp 0 "$c" localhost/regpush-test:epoch >/dev/null
"${B[@]}" rm "$c" >/dev/null
for t in rev revexp other rc9 epoch; do
  "${B[@]}" push -q "localhost/regpush-test:$t" "oci-archive:$img/$t.tar:$t"
done
"${B[@]}" manifest create regpush-revmulti >/dev/null
"${B[@]}" manifest add regpush-revmulti containers-storage:localhost/regpush-test:rev >/dev/null
"${B[@]}" manifest add regpush-revmulti containers-storage:localhost/regpush-test:revarm >/dev/null
"${B[@]}" manifest push -q --all --format oci regpush-revmulti "oci-archive:$img/revmulti.tar:revmulti"
export REGPUSH_TEST_CA_DIR=$root/cacerts
export REGPUSH_TEST_USER=$user
export REGPUSH_TEST_PASS=$pass
export REGPUSH_TEST_IMAGES=$img
export REGPUSH_TEST_STORAGE="vfs@$root/storage+$root/run"
export REGPUSH_TEST_CRANE=$crane
export REGPUSH_TEST_COSIGN=$cosign
# The supervisor runs in the background so that a TERM or INT sent to
# this script reaches it (it stops the command and the peers, then exits).
# Debian's interpreter (deps.sh installs it): a version manager's shim would
# change the environment the tests inherit (PATH, PYENV_*).
/usr/bin/python3 "$here/peers.py" --root "$root" --crane "$crane" -- bash "$here/with-registries.sh" --inside "$@" &
sup=$!
trap 'kill -TERM "$sup" 2>/dev/null || true' INT TERM HUP
rc=0
while :; do
  wait "$sup" && rc=0 || rc=$?
  # wait returns early when a trapped signal arrives; the supervisor is
  # still ours until it has been waited for.
  kill -0 "$sup" 2>/dev/null || break
done
exit "$rc"
