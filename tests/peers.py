#!/usr/bin/env python3
"""The test peers' supervisor: starts every peer the end-to-end tests need
as its own child, runs the command, and stops the peers again.

  peers.py --root DIR [--crane PATH] -- COMMAND...

Each peer runs in a session and process group of its own (setsid), so a
signal meant for the tests or for a regpush under test never reaches it.
A peer is ready when it says so: a fake prints "ready PORT" on its
stdout pipe; a registry answers GET /v2/ on its port. This process holds
every peer's Popen object (its pid cannot be reused before it is waited
for) and watches them while COMMAND runs. A peer that ends before the end
is named with how it ended (its exit status or the signal) and the tail of
its log, and the run fails: there are no restarts, so a test never runs
against a peer that forgot its fault state.

The environment COMMAND gets (REGPUSH_TEST_*) is written as a table at
the end of this file's start(). Peers and logs live under --root, which
the caller (with-registries.sh) made and removes.
"""
import argparse
import ctypes
import os
import select
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import ssl

HERE = os.path.dirname(os.path.abspath(__file__))
LIBC = ctypes.CDLL(None, use_errno=True)


def orphan_guard():
    """In each peer before exec: SIGKILL it when this supervisor dies,
    even by SIGKILL, so no peer outlives the run as init's child."""
    LIBC.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() == 1:
        os._exit(1)


def say(msg):
    print("peers: " + msg, file=sys.stderr, flush=True)


def free_port():
    # The port is bound again by the peer; a peer that loses the race
    # exits at start and is started again on another port (start only:
    # once ready, a peer is never restarted).
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Peer:
    def __init__(self, name, argv, log, ready, scheme="http", cafile=None, conf=None):
        self.name, self.argv, self.log, self.ready = name, argv, log, ready
        self.scheme, self.cafile = scheme, cafile
        # conf: (path, text) of a configuration naming {PORT}, written per
        # attempt (distribution takes its address from its config only).
        self.conf = conf
        self.proc, self.port, self.reported = None, None, False

    def tail(self, n=30):
        try:
            with open(self.log, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def how_ended(self):
        rc = self.proc.returncode
        return "killed by signal %d (%s)" % (-rc, signal.Signals(-rc).name) if rc < 0 \
            else "exited with status %d" % rc

    def start(self, deadline_s=20):
        for _attempt in range(5):
            port = free_port() if self.ready == "http" else 0
            argv = [a.replace("{PORT}", str(port)) for a in self.argv]
            if self.conf:
                with open(self.conf[0], "w") as f:
                    f.write(self.conf[1].replace("{PORT}", str(port)))
            logf = open(self.log, "ab")
            if self.ready == "line":
                self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=logf,
                                             stdin=subprocess.DEVNULL, start_new_session=True,
                                             preexec_fn=orphan_guard)
            else:
                self.proc = subprocess.Popen(argv, stdout=logf, stderr=subprocess.STDOUT,
                                             stdin=subprocess.DEVNULL, start_new_session=True,
                                             preexec_fn=orphan_guard)
            logf.close()
            got = self.wait_line(deadline_s) if self.ready == "line" else self.wait_http(port, deadline_s)
            if got:
                self.port = got
                return got
            self.stop()
        raise SystemExit("peers: %s did not start (%s):\n%s" % (self.name, " ".join(self.argv), self.tail()))

    def wait_line(self, deadline_s):
        end = time.monotonic() + deadline_s
        buf = b""
        fd = self.proc.stdout.fileno()
        while time.monotonic() < end:
            r, _, _ = select.select([fd], [], [], 0.2)
            if r:
                chunk = os.read(fd, 4096)
                if not chunk:
                    return None
                buf += chunk
                for line in buf.split(b"\n")[:-1]:
                    if line.startswith(b"ready "):
                        # The fake sends the rest of its stdout to its
                        # log (stderr): the pipe is done with.
                        self.proc.stdout.close()
                        return int(line.split()[1])
            if self.proc.poll() is not None:
                return None
        return None

    def wait_http(self, port, deadline_s):
        end = time.monotonic() + deadline_s
        ctx = ssl.create_default_context(cafile=self.cafile) if self.scheme == "https" else None
        url = "%s://127.0.0.1:%d/v2/" % (self.scheme, port)
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                return None
            try:
                urllib.request.urlopen(url, timeout=1, context=ctx)
                return port
            except urllib.error.HTTPError:
                return port  # 401: up, asking for credentials
            except (OSError, ValueError):
                time.sleep(0.1)
        return None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--root", required=True)
    p.add_argument("--crane", required=True)
    p.add_argument("cmd", nargs=argparse.REMAINDER)
    a = p.parse_args()
    cmd = a.cmd[1:] if a.cmd[:1] == ["--"] else a.cmd
    root = a.root
    peers = []
    child = None
    ended = []

    def note_ended():
        """Names each peer found ended, once; the run fails at the end."""
        for pe in peers:
            if not pe.alive() and not pe.reported:
                pe.reported = True
                ended.append(pe)
                say("%s (pid %d) ended before the end: %s; its log ends:\n%s" %
                    (pe.name, pe.proc.pid, pe.how_ended(), pe.tail()))

    def stop_all():
        for pe in reversed(peers):
            pe.stop()

    def on_signal(n, _f):
        # The command runs in a process group of its own: the signal goes
        # to all of it (a shell in it does not pass signals on to the test
        # binary it waits for), then SIGKILL to what is left.
        if child is not None and child.poll() is None:
            try:
                os.killpg(child.pid, n)
                child.wait(10)
            except subprocess.TimeoutExpired:
                pass
            except ProcessLookupError:
                pass
        if child is not None:
            try:
                os.killpg(child.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        stop_all()
        sys.exit(128 + n)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    def registry(name, extra="", scheme="http"):
        d = os.path.join(root, name)
        os.makedirs(d, exist_ok=True)
        cfg = os.path.join(d, "config.yml")
        text = ("version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n"
                "storage:\n  filesystem:\n    rootdirectory: %s/data\n  delete:\n    enabled: true\n"
                "http:\n  addr: 127.0.0.1:{PORT}\n%s" % (d, extra))
        pe = Peer(name, ["docker-registry", "serve", cfg], os.path.join(d, "log"), "http",
                  scheme, os.path.join(root, "ca", "ca.crt"), (cfg, text))
        peers.append(pe)
        return pe.start()

    def fake(name, *args):
        d = os.path.join(root, name)
        os.makedirs(d, exist_ok=True)
        pe = Peer(name, [sys.executable, os.path.join(HERE, "fakes.py")] + list(args) +
                  ["--port", "0", "--log", os.path.join(d, "requests.log")], os.path.join(d, "out"), "line")
        peers.append(pe)
        return pe.start()

    def ggcr(name):
        d = os.path.join(root, name)
        os.makedirs(d, exist_ok=True)
        pe = Peer(name, [a.crane, "registry", "serve", "--address", "127.0.0.1:{PORT}"],
                  os.path.join(d, "log"), "http")
        peers.append(pe)
        return pe.start()

    try:
        tls_extra = ("  tls:\n    certificate: %s/certs/server.crt\n    key: %s/certs/server.key\n"
                     "auth:\n  htpasswd:\n    realm: regpush-test\n    path: %s/htpasswd\n" % (root, root, root))
        plain = registry("plain")
        tls = registry("tls", tls_extra, "https")
        user = os.environ["REGPUSH_TEST_USER"]
        pw = os.environ["REGPUSH_TEST_PASS"]
        token = fake("tokensrv", "token", "--key", root + "/token.key", "--cert", root + "/token.crt",
                     "--user", user, "--password", pw)
        tokreg = registry("tokenreg", "auth:\n  token:\n    realm: http://127.0.0.1:%d/token\n"
                          "    service: regpush-test\n    issuer: regpush-test-issuer\n"
                          "    rootcertbundle: %s/token.crt\n" % (token, root))
        fault = fake("faultproxy", "proxy", "--upstream", "127.0.0.1:%d" % plain)
        slow = fake("slowproxy", "proxy", "--upstream", "127.0.0.1:%d" % plain, "--delay-ms", "10",
                    "--mbit", "400")
        gg = ggcr("ggcr")
        ggfault = fake("ggcrfault", "proxy", "--upstream", "127.0.0.1:%d" % gg)
        env = dict(os.environ)
        env.update({
            "REGPUSH_TEST_PLAIN": "127.0.0.1:%d" % plain,
            "REGPUSH_TEST_PLAIN_LOG": root + "/plain/log",
            "REGPUSH_TEST_TLS": "127.0.0.1:%d" % tls,
            "REGPUSH_TEST_TOKENREG": "127.0.0.1:%d" % tokreg,
            "REGPUSH_TEST_TOKENSRV": "127.0.0.1:%d" % token,
            "REGPUSH_TEST_TOKEN_LOG": root + "/tokensrv/requests.log",
            "REGPUSH_TEST_FAULT": "127.0.0.1:%d" % fault,
            "REGPUSH_TEST_FAULT_LOG": root + "/faultproxy/requests.log",
            "REGPUSH_TEST_SLOW": "127.0.0.1:%d" % slow,
            "REGPUSH_TEST_SLOW_LOG": root + "/slowproxy/requests.log",
            # The second implementation, and a fault proxy in front of it:
            # tests/on-registry.sh swaps these in for PLAIN and FAULT.
            "REGPUSH_TEST_GGCR": "127.0.0.1:%d" % gg,
            "REGPUSH_TEST_GGCR_LOG": root + "/ggcr/log",
            "REGPUSH_TEST_GGCR_FAULT": "127.0.0.1:%d" % ggfault,
            "REGPUSH_TEST_GGCR_FAULT_LOG": root + "/ggcrfault/requests.log",
            "REGPUSH_TEST_REGISTRY": "distribution",
        })
        say("plain %d, tls+htpasswd %d, token %d (server %d), fault proxy %d, +20ms proxy %d, "
            "go-containerregistry %d (fault proxy %d)" % (plain, tls, tokreg, token, fault, slow, gg, ggfault))
        child = subprocess.Popen(cmd, env=env, process_group=0)
        while True:
            try:
                rc = child.wait(0.5)
                break
            except subprocess.TimeoutExpired:
                pass
            note_ended()
        note_ended()
    finally:
        stop_all()
    if ended:
        say("failing the run: %s ended early (no peer is ever restarted)" %
            ", ".join("%s (%s)" % (pe.name, pe.how_ended()) for pe in ended))
        return rc or 1
    return rc


if __name__ == "__main__":
    sys.exit(main())
