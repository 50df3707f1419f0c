#!/bin/bash
# Starts what the end-to-end tests need, runs "$@", and stops it all again
# (also when the tests fail or are interrupted):
#   - a plain-HTTP distribution registry with deletes enabled;
#   - a TLS registry with htpasswd auth (CA and certificate made here);
#   - test images built offline with buildah (vfs): oci-archive, OCI
#     layout, docker-archive, containers-storage, a second image, and a
#     two-platform OCI index.
# Everything lives under one temp directory, removed on exit.
set -euo pipefail

root=$(mktemp -d /tmp/regpush-e2e.XXXXXX)
cleanup() {
  # start_registry and start_fake run in subshells, so pids are in files.
  local f p d kids
  touch "$root/stopping"
  for f in "$root"/*/pid; do
    [ -f "$f" ] || continue
    p=$(cat "$f")
    d=$(dirname "$f")
    if [ -f "$d/out" ]; then
      # A fake runs under a loop that restarts it (start_fake): a fake
      # that ended before the end explains the failures it caused.
      if grep -q "^with-registries: .* ended with status" "$d/out"; then
        echo "with-registries: $(basename "$d") ended before the end (and was restarted):" >&2
        tail -n 30 "$d/out" >&2 || true
      fi
      grep "signal .* ignored" "$d/out" >&2 || true
      kids=$(pgrep -P "$p" || true)
      # shellcheck disable=SC2086
      kill -9 "$p" $kids 2>/dev/null || true
      continue
    fi
    # A registry that died before the end explains the failures it caused
    # (and its pid is not signalled: PIDs wrap at 32768 here, so it may
    # already be another process's).
    if ! kill -0 "$p" 2>/dev/null; then
      echo "with-registries: $(basename "$d") (pid $p) had exited before the end:" >&2
      tail -n 20 "$d/log" >&2 || true
      continue
    fi
    kill "$p" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$p" 2>/dev/null; then kill -9 "$p" 2>/dev/null || true; fi
  done
  rm -rf "$root"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  local p
  for _ in $(seq 50); do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then echo "$p"; return; fi
  done
  echo "no free port" >&2; return 1
}

# start_registry NAME EXTRA_YAML -> prints the port
start_registry() {
  local name=$1 extra=$2 port scheme=http
  for _ in 1 2 3 4 5; do
    port=$(free_port)
    mkdir -p "$root/$name"
    cat >"$root/$name/config.yml" <<YML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $root/$name/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
$extra
YML
    docker-registry serve "$root/$name/config.yml" >"$root/$name/log" 2>&1 &
    local pid=$!
    case $extra in *tls*) scheme=https ;; esac
    for _ in $(seq 100); do
      if curl -s -o /dev/null --max-time 1 --cacert "$root/ca/ca.crt" "$scheme://127.0.0.1:$port/v2/"; then
        echo "$pid" >"$root/$name/pid"; echo "$port"; return 0
      fi
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    # Only a registry still running is stopped: a dead one's pid may
    # already belong to another process.
    if kill -0 "$pid" 2>/dev/null; then kill "$pid" 2>/dev/null || true; fi
  done
  echo "registry $name did not start:" >&2; cat "$root/$name/log" >&2; return 1
}

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

plain_port=$(start_registry plain "")
tls_port=$(start_registry tls "  tls:
    certificate: $root/certs/server.crt
    key: $root/certs/server.key
auth:
  htpasswd:
    realm: regpush-test
    path: $root/htpasswd")

# --- token auth: a token server (tests/fakes.py) and a registry using it ---
here=$(cd "$(dirname "$0")" && pwd)
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=regpush token signer" \
  -keyout "$root/token.key" -out "$root/token.crt" 2>/dev/null

# start_fake NAME ARGS... -> prints the port. The fake (tests/fakes.py)
# runs under a loop that writes how each run of it ended ("ended with
# status N": 128+N is a signal) to its out file and starts it again on
# the same port: a few times a fake vanished mid-suite without a trace
# (2026-11-29), failing every later test that needed it.
start_fake() {
  local name=$1 port kids; shift
  for _ in 1 2 3 4 5; do
    port=$(free_port)
    mkdir -p "$root/$name"
    : >"$root/$name/out"
    (
      set +e
      trap '' HUP
      while :; do
        python3 "$here/fakes.py" "$@" --port "$port" --log "$root/$name/requests.log"
        echo "with-registries: $name ended with status $? at $(date +%T.%N)"
        [ -e "$root/stopping" ] && exit 0
        sleep 0.2
      done
    ) >>"$root/$name/out" 2>&1 &
    local pid=$!
    for _ in $(seq 100); do
      if grep -q ready "$root/$name/out" 2>/dev/null; then
        echo "$pid" >"$root/$name/pid"; echo "$port"; return 0
      fi
      sleep 0.05
    done
    kids=$(pgrep -P "$pid" || true)
    # shellcheck disable=SC2086
    kill -9 "$pid" $kids 2>/dev/null || true
  done
  echo "$name did not start:" >&2; cat "$root/$name/out" >&2; return 1
}
token_port=$(start_fake tokensrv token --key "$root/token.key" --cert "$root/token.crt" \
  --user "$user" --password "$pass")
tokreg_port=$(start_registry tokenreg "auth:
  token:
    realm: http://127.0.0.1:$token_port/token
    service: regpush-test
    issuer: regpush-test-issuer
    rootcertbundle: $root/token.crt")
# A fault-injecting proxy in front of the plain registry, and one that
# emulates a 20 ms RTT, 400 Mbit/s link (for the benchmark).
fault_port=$(start_fake faultproxy proxy --upstream "127.0.0.1:$plain_port")
slow_port=$(start_fake slowproxy proxy --upstream "127.0.0.1:$plain_port" --delay-ms 10 --mbit 400)

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
# A source image in a registry, for docker://.
skopeo copy -q --dest-tls-verify=false "oci-archive:$img/one.tar" \
  "docker://127.0.0.1:$plain_port/sources/one:latest"

export REGPUSH_TEST_PLAIN=127.0.0.1:$plain_port
export REGPUSH_TEST_TLS=127.0.0.1:$tls_port
export REGPUSH_TEST_CA_DIR=$root/cacerts
export REGPUSH_TEST_USER=$user
export REGPUSH_TEST_PASS=$pass
export REGPUSH_TEST_IMAGES=$img
export REGPUSH_TEST_STORAGE="vfs@$root/storage+$root/run"
export REGPUSH_TEST_TOKENREG=127.0.0.1:$tokreg_port
export REGPUSH_TEST_TOKENSRV=127.0.0.1:$token_port
export REGPUSH_TEST_TOKEN_LOG=$root/tokensrv/requests.log
export REGPUSH_TEST_FAULT=127.0.0.1:$fault_port
export REGPUSH_TEST_FAULT_LOG=$root/faultproxy/requests.log
export REGPUSH_TEST_SLOW=127.0.0.1:$slow_port
export REGPUSH_TEST_SLOW_LOG=$root/slowproxy/requests.log
export REGPUSH_TEST_PLAIN_LOG=$root/plain/log
echo "test registries: plain $REGPUSH_TEST_PLAIN, tls+htpasswd $REGPUSH_TEST_TLS," \
  "token $REGPUSH_TEST_TOKENREG, fault proxy $REGPUSH_TEST_FAULT, +20ms proxy $REGPUSH_TEST_SLOW" >&2
"$@"
