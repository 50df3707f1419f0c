#!/bin/bash
# Starts a real Docker Engine (Debian trixie's docker.io, in a trixie root
# that scripts/trixie.sh caches outside the clone), runs "$@" with
# DOCKER_HOST set and `docker` on PATH, then stops the engine by its pid.
#
# The engine runs chrooted in the root, in a mount namespace of its own
# (unshare --mount): the root bound on itself (image imports need it to be
# a mount point), proc, /dev, sysfs and cgroup2 in it, and this machine's
# /tmp bound on the root's /tmp so that paths under /tmp are the same for
# the tests and the engine (workspaces, build contexts, the socket). Every
# mount lives in that namespace only and goes with its last process: none
# is left on this machine, whatever way the engine ends. Its data root and
# exec root are under a temp directory, removed at the end. Storage is
# overlay2, as on GitHub's runners (vfs copies every image's whole tree
# for each container: 4 s for a docker run of the action image), or vfs
# where /tmp is itself an overlay (REGPUSH_DOCKER_STORAGE overrides).
#
# Where the engine cannot start, this fails and says why (the engine's
# log); nothing falls back to running without it.
#   DOCKER_HOST             unix://<tmp>/docker.sock
#   REGPUSH_DOCKER_SOCK     <tmp>/docker.sock (the path the engine sees: what
#                           the runner's -v /var/run/docker.sock mounts)
#   REGPUSH_DOCKER_ROOT     the trixie root (its VERSIONS names docker.io)
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
root=$(bash "$here/scripts/trixie.sh" root docker docker.io docker-cli ca-certificates | tail -1)
run=$(mktemp -d /tmp/regpush-docker.XXXXXX)
pid=""
cleanup() {
  local rc=$?
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "with-docker: dockerd (pid $pid) ignored SIGTERM for 15 s; SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  # The namespace (and every mount in it) goes with its last process:
  # wait for the shims too, then the vfs layers can be removed.
  for _ in $(seq 50); do
    pgrep -f "$run/" >/dev/null 2>&1 || break
    sleep 0.1
  done
  rm -rf "$run"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$run/bin" "$run/data" "$run/exec"
driver=${REGPUSH_DOCKER_STORAGE:-}
if [ -z "$driver" ]; then
  case $(stat -f -c %T /tmp) in overlay*) driver=vfs ;; *) driver=overlay2 ;; esac
fi
unshare --mount --propagation private -- bash -c '
  set -e
  root=$1 run=$2 driver=$3
  mount --bind "$root" "$root"
  mount --make-private "$root"
  mount -t proc proc "$root/proc"
  mount --rbind /dev "$root/dev"
  mount -t sysfs sysfs "$root/sys"
  mount -t cgroup2 cgroup2 "$root/sys/fs/cgroup"
  mount -t tmpfs tmpfs "$root/run"
  mkdir -p "$root/tmp"
  mount --rbind /tmp "$root/tmp"
  exec chroot "$root" /usr/sbin/dockerd --bridge=none --iptables=false --ip6tables=false \
    --storage-driver="$driver" --data-root="$run/data" --exec-root="$run/exec" \
    -H "unix://$run/docker.sock" --pidfile="$run/docker.pid" --log-level=warn
' with-docker "$root" "$run" "$driver" >"$run/log" 2>&1 &
pid=$!

ok=""
for _ in $(seq 300); do
  if curl -s --max-time 1 --unix-socket "$run/docker.sock" http://docker/_ping 2>/dev/null | grep -q OK; then
    ok=1; break
  fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$ok" ]; then
  echo "with-docker: the Docker Engine did not start (trixie root $root); its log:" >&2
  tail -n 30 "$run/log" >&2
  exit 1
fi

# The client is the root's own docker (the engine's version), run in the
# engine's namespace so that /tmp paths mean the same; absolute paths only.
# Not a shell script: sh drops variables whose names are not shell names
# (INPUT_DEV-REGISTRY), which docker run -e NAME must pass on.
cat >"$run/bin/docker" <<EOF
#!/usr/bin/python3
import os, sys
os.execv("/usr/bin/nsenter", ["nsenter", "--target", "$pid", "--mount", "--", "chroot", "$root",
         "/usr/bin/docker", "--host", "unix://$run/docker.sock"] + sys.argv[1:])
EOF
chmod +x "$run/bin/docker"
export PATH=$run/bin:$PATH
export DOCKER_HOST=unix://$run/docker.sock
export REGPUSH_DOCKER_SOCK=$run/docker.sock
export REGPUSH_DOCKER_ROOT=$root
v=$(curl -s --unix-socket "$run/docker.sock" http://docker/version)
echo "with-docker: Docker Engine $(echo "$v" | python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["Version"], "API", j["ApiVersion"], "min", j["MinAPIVersion"])') ($driver, pid $pid)" >&2
"$@"
