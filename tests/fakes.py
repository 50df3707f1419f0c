#!/usr/bin/env python3
"""Test peers for regpush, standard library only.

  fakes.py token --port P --key KEY.pem --cert CERT.pem --user U --password PW --log FILE
      A Docker/distribution token server: GET /token?service=S&scope=...
      with Basic auth answers {"token": JWT} (RS256, x5c header, no
      expires_in). Repositories whose name contains "stingy" get only
      "pull" on regpush's first request for a scope set (to make the
      registry answer insufficient_scope). Anonymous callers get "pull" only.
      Repositories containing "access-token" are answered as
      {"access_token": ..., "expires_in": 300}; "evil-token" get a token with
      a CR LF and a header after it; "huge-expiry" an expires_in of 2^63-1.
      Every request is logged.

  fakes.py proxy --port P --upstream HOST:PORT [--delay-ms N] [--mbit M]
      An HTTP proxy in front of a real registry, adding N ms before each
      request and each response (2N of round-trip time), M Mbit/s of
      bandwidth each way (shared by every connection), and injecting
      faults by repository name:
        f-429      the first request of each path: 429, Retry-After: 1
        f-500once  the first request of each path: 500, then the registry
        f-500x     every request: 500 with an OCI error body
        f-401      every request: 401 with a Basic challenge
        f-403      every request: 403 DENIED
        f-trunc    manifest GET: the body cut short of Content-Length
        f-big      tag list: a 5 MiB body
        f-slow     every request: 5 s before answering
        f-abslink  tag list: the Link header made absolute (as Quay sends it)
        f-tagsslow  tag list: logs "BEGIN GET PATH" on arrival, answers after 30 s
        f-pagesslow tag list: endless pages of new tags, each after 1 s
        f-cycle    tag list: page A links to page B, B back to A
        f-samepage tag list: every page the same tags, each linking onwards
        f-endless  tag list: endless pages, each with a new tag
        f-reflect  401 Basic challenge without credentials; with them, a 403
                   whose message echoes the password, its base64 forms and
                   the whole Authorization header
        f-escrealm every request: 401 Bearer with an ESC and a CR in the realm
        f-escdigest manifest PUT: Docker-Content-Digest with an ESC in it
        f-ctype    manifest GET/HEAD: Content-Type text/html
        f-race     before the first tag PUT of a repository, "another run"
                   tags the repository's `seed` manifest as v1.2.4
        f-steal    right after the first PUT of a vX.Y.Z tag, "another run"
                   puts the repository's `seed` manifest on that tag
        f-latesteal  like f-steal, but "another run" writes the tag 50 ms
                   after this run's PUT was answered (its PUT landing after
                   this run's first read-back)
        f-delfail  the first manifest digest DELETEd in a repository (and
                   every later DELETE of it): 500, always
        f-delslow  DELETE: logs "BEGIN DELETE PATH", then 3 s before forwarding
        f-putlatest  every PUT of the tag `latest`: 500, always
        f-sigfail  every PUT of a signature manifest (sha256-<hex>.sig): 500
        f-blobtaken  regpush's own first blob PUT (the end of a monolithic
                   upload; User-Agent regpush/…) in a repository reaches
                   the registry, which stores the blob, but the client
                   gets 500: its retry finds the session closed (404
                   BLOB_UPLOAD_UNKNOWN)
        f-sigalways right after every PUT of a signature manifest by
                   regpush in a repository whose name ends in "-prod",
                   "another signer" writes it as f-sigrace does: a carry
                   that can never keep its layers
        f-sigrace  right after the first PUT of a signature manifest in a
                   repository, "another signer" writes the same tag with
                   only its own layer (payload {"foreign":"signer"}), as a
                   signer that read the tag before this run's write would
        f-repush   the first blob GET in a repository (prune reading a config
                   while it decides): "another run" puts the repository's
                   `seed` manifest on feature-x first
        f-longloc  blob GET: 307 to the same blob through a 5,000-byte Location
                   (http://HOST/pad/xxx.../v2/...: a presigned CDN URL's
                   length); f-longloc-huge: a 20,000-byte one
        f-lag      tag list: `latest` added to the first page (a lagging replica:
                   the list names it, its HEAD and GET answer 404)
        f-uploadfail every PUT of a manifest by digest: 500, always
        f-uploadonce the first PUT of a manifest by digest in a repository (the
                   end of the engine's upload, which it does not retry): 500
        f-halfput  the first blob PUT with a digest in a repository: half its
                   body relayed under the full Content-Length, that upstream
                   connection closed, then the client's reset (a connection
                   lost mid-upload: the registry's session is broken)
        f-nomount  a cross-repository mount POST loses its mount= and from=
                   (the registry opens an upload instead: 202)
        f-revert   right after the first PUT of `latest`, "an older run"
                   puts the repository's `seed` manifest back on it
      Requests are logged one per line to --log: "METHOD PATH STATUS
      t=ARRIVAL d=SECONDS ua=CLIENT" (the arrival as Unix time, the time
      until the answer went out, the User-Agent's product).

  fakes.py chaos --upstream HOST:PORT --seed S --rate PCT [--port 0]
                 [--kinds K,K...] [--always FAULT] [--stall-s N]
                 [--max-seconds N] [--max-requests N]
      A proxy that fails PCT % of requests at random. Whether a request
      fails, and how, is a hash of the seed, the method, the path (upload
      session IDs and the query left out, an upload's digest kept) and how
      many times that request was seen before, so a seed replays the same
      faults on the same requests whatever order concurrent requests
      arrive in. Kinds (all by default):
        500 502 503  the status with an OCI error body, either before the
                     registry sees the request or after it has acted on it
        429          429 with Retry-After: 1, before the registry sees it
        reset        after the registry acted: the headers and half the
                     body, then a TCP reset
        upreset      a request with a body: half of it read, then a reset
                     (the registry never sees it)
        stall        --stall-s seconds (default 3) of silence, then the
                     connection closed; before or after the registry
        trunc        after the registry acted: the full Content-Length
                     announced, half the body sent, the connection closed
      --always FAULT is permanent instead: "manifest-put-500" (every
      manifest PUT: 500) or "401" (every request: 401 with a Basic
      challenge). Listens on 127.0.0.1 only (--port 0: a free port, printed
      as "ready PORT"); exits by itself after --max-seconds (default 900)
      or --max-requests (default 50000). POST /-/chaos?rate=N sets the
      rate and ?always= the permanent fault (empty: none). Each request is
      logged as "METHOD PATH STATUS" plus " fault=KIND/WHEN" when faulted.

Signing uses the openssl command line (no third-party Python modules).
"""
import argparse
import faulthandler
import hashlib
import base64
import http.client
import http.server
import json
import os
import re
import signal
import socket
import socketserver
import struct
import subprocess
import sys
import threading
import time
import urllib.parse


HOP = ("transfer-encoding", "content-length", "connection")
ACCEPT = ("application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, "
          "application/vnd.docker.distribution.manifest.list.v2+json, "
          "application/vnd.docker.distribution.manifest.v2+json")


def exchange(host, method, path, body=None, headers=None, timeout=60):
    """One plain-HTTP request to host; returns (response, body bytes)."""
    conn = http.client.HTTPConnection(host, timeout=timeout)
    conn.request(method, path, body=body, headers=headers or {})
    r = conn.getresponse()
    rb = r.read()
    conn.close()
    return r, rb


def relay(handler, upstream, path, body):
    """The handler's request, as received, to upstream at path; returns
    (status, response headers, body) without the hop-by-hop headers.
    Repeated request headers (skopeo sends one Accept per media type) are
    joined, not collapsed to the last one."""
    hs = {k: ", ".join(handler.headers.get_all(k)) for k in set(handler.headers.keys())
          if k.lower() not in HOP}
    r, rb = exchange(upstream, handler.command, path, headers=hs,
                     body=body if body or handler.command in ("PUT", "POST", "PATCH") else None)
    return r.status, [(k, v) for k, v in r.getheaders() if k.lower() not in HOP], rb


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


class Token(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen = set()
    lock = threading.Lock()

    def log_message(self, *a):
        pass

    def do_GET(self):
        a = self.server.args
        u = urllib.parse.urlparse(self.path)
        q = urllib.parse.parse_qs(u.query)
        user = None
        h = self.headers.get("Authorization", "")
        if h.startswith("Basic "):
            try:
                user, _, pw = base64.b64decode(h[6:]).decode().partition(":")
            except Exception:
                user, pw = None, None
            if user != a.user or pw != a.password:
                self.logline(u.path, q, 401)
                self.answer(401, {"errors": [{"code": "UNAUTHORIZED", "message": "bad credentials"}]})
                return
        scopes = q.get("scope", [])
        access = []
        key = " ".join(scopes)
        for s in scopes:
            parts = s.split(":")
            if len(parts) < 3:
                continue
            typ, name, actions = parts[0], ":".join(parts[1:-1]), parts[-1].split(",")
            if user is None:
                actions = [x for x in actions if x == "pull"]
            with Token.lock:
                # Only regpush's own requests, so skopeo can seed the repo.
                stingy = ("stingy" in name and key not in Token.seen and
                          self.headers.get("User-Agent", "").startswith("regpush/"))
            if stingy:
                actions = [x for x in actions if x == "pull"]
            access.append({"type": typ, "name": name, "actions": actions})
        with Token.lock:
            if self.headers.get("User-Agent", "").startswith("regpush/"):
                Token.seen.add(key)
        now = int(time.time())
        claims = {"iss": "regpush-test-issuer", "sub": user or "", "aud": q.get("service", [""])[0],
                  "exp": now + 300, "nbf": now - 10, "iat": now, "jti": os.urandom(8).hex(),
                  "access": access}
        header = {"typ": "JWT", "alg": "RS256", "x5c": [a.der]}
        signing = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
        sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", a.key], input=signing.encode(),
                             capture_output=True, check=True).stdout
        tok = signing + "." + b64url(sig)
        if any("access-token" in s for s in scopes):
            body = {"access_token": tok, "expires_in": 300}
        elif any("evil-token" in s for s in scopes):
            body = {"token": "abc\r\nX-Injected: 1"}
        elif any("huge-expiry" in s for s in scopes):
            body = {"token": tok, "expires_in": 9223372036854775807}
        else:
            body = {"token": tok}
        # Logged before the answer goes out: a test that counts lines
        # right after its request sees this one.
        self.logline(u.path, q, 200)
        self.answer(200, body)

    def logline(self, path, q, status):
        with open(self.server.args.log, "a") as f:
            f.write("%s %s %s %d\n" % (path, ",".join(q.get("scope", [])),
                                        "auth" if "Authorization" in self.headers else "anon", status))

    def answer(self, code, obj):
        b = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    firsts = set()
    lock = threading.Lock()

    def log_message(self, *a):
        pass

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = bytearray()
            while True:
                line = self.rfile.readline().strip()
                n = int(line.split(b";")[0], 16)
                if n == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(out)
                out += self.rfile.read(n)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length", "0") or 0)
        return self.rfile.read(n) if n else b""

    def send(self, code, headers, body, length=None):
        # Logged before the answer goes out: a client that counts lines
        # right after its request sees this one.
        self.link("down", 0 if self.command == "HEAD" else len(body))
        with open(self.server.args.log, "a") as fh:
            fh.write("%s %s %d t=%.4f d=%.4f ua=%s\n" % (
                self.command, getattr(self, "logpath", self.path), code, self.t0,
                time.time() - self.t0, self.headers.get("User-Agent", "-").split("/")[0].split()[0]))
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    link_free = {"up": 0.0, "down": 0.0}

    def link(self, way, n):
        """n bytes over the emulated link (--mbit), one transfer at a time
        each way: returns when they would have arrived."""
        mbit = self.server.args.mbit
        if not mbit or not n:
            return
        with Proxy.lock:
            start = max(time.monotonic(), Proxy.link_free[way])
            Proxy.link_free[way] = until = start + n * 8 / (mbit * 1e6)
        time.sleep(max(0.0, until - time.monotonic()))

    done = set()

    def upstream(self, method, path, body=None, headers=None):
        return exchange(self.server.args.upstream, method, path, body, headers)

    def copy_seed(self, repo, tag):
        """What another run would do: put the repository's seed manifest on tag."""
        r, rb = self.upstream("GET", "/v2/%s/manifests/seed" % repo, headers={"Accept": ACCEPT})
        self.upstream("PUT", "/v2/%s/manifests/%s" % (repo, tag), body=rb,
                      headers={"Content-Type": r.getheader("Content-Type")})

    def put_blob(self, repo, data):
        d = "sha256:" + hashlib.sha256(data).hexdigest()
        r, _ = self.upstream("POST", "/v2/%s/blobs/uploads/" % repo)
        loc = r.getheader("Location")
        if loc.startswith("http"):
            loc = "/" + loc.split("/", 3)[3]
        self.upstream("PUT", loc + ("&" if "?" in loc else "?") + "digest=" + d, body=data,
                      headers={"Content-Type": "application/octet-stream"})
        return d, len(data)

    def foreign_sig(self, repo, tag):
        """What a signer that read the tag before this run's write does: it
        writes the tag with its own layer only."""
        ld, ll = self.put_blob(repo, b'{"foreign":"signer"}')
        cfg = json.dumps({"architecture": "", "created": "0001-01-01T00:00:00Z",
                          "history": [{"created": "0001-01-01T00:00:00Z"}], "os": "",
                          "rootfs": {"type": "layers", "diff_ids": [ld]}, "config": {}},
                         separators=(",", ":")).encode()
        cd, cl = self.put_blob(repo, cfg)
        m = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                   "size": cl, "digest": cd},
                        "layers": [{"mediaType": "application/vnd.dev.cosign.simplesigning.v1+json",
                                    "size": ll, "digest": ld,
                                    "annotations": {"dev.cosignproject.cosign/signature": "Zm9yZWlnbg=="}}]},
                       separators=(",", ":")).encode()
        self.upstream("PUT", "/v2/%s/manifests/%s" % (repo, tag), body=m,
                      headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"})

    def half_upstream(self, path, body):
        """The request to upstream with half its body under the full
        Content-Length, then the connection closed; the answer, if any, is
        not read."""
        host, _, port = self.server.args.upstream.rpartition(":")
        s = socket.create_connection((host, int(port)), timeout=10)
        head = "%s %s HTTP/1.1\r\nHost: %s\r\n" % (self.command, path, self.server.args.upstream)
        for k in set(self.headers.keys()):
            if k.lower() not in HOP and k.lower() != "host":
                head += "%s: %s\r\n" % (k, ", ".join(self.headers.get_all(k)))
        head += "Content-Length: %d\r\n\r\n" % len(body)
        s.sendall(head.encode() + body[: len(body) // 2])
        time.sleep(0.2)
        s.close()
        time.sleep(0.2)

    def once(self, key):
        with Proxy.lock:
            first = key not in Proxy.done
            Proxy.done.add(key)
        return first

    doom = {}

    def doomed(self, repo, digest):
        """The first digest asked about in repo is doomed; others are not."""
        with Proxy.lock:
            return Proxy.doom.setdefault(repo, digest) == digest

    def tags_page(self, f, path):
        u = urllib.parse.urlparse(path)
        q = urllib.parse.parse_qs(u.query)
        repo = u.path[len("/v2/"):-len("/tags/list")]
        last = q.get("last", [""])[0]
        first = "/v2/%s/tags/list?n=%s" % (repo, q.get("n", ["1000"])[0])
        if f == "f-cycle":
            tags, nxt = (["cyc-b"], first) if last == "cyc-a" else (["cyc-a"], first + "&last=cyc-a")
        elif f == "f-samepage":
            k = int(q.get("p", ["0"])[0])
            tags, nxt = ["same-a", "same-b"], first + "&last=same-b&p=%d" % (k + 1)
        else:  # f-endless, f-pagesslow
            k = int(last[1:]) + 1 if last.startswith("e") else 0
            tags, nxt = ["e%d" % k], first + "&last=e%d" % k
            if f == "f-pagesslow":
                time.sleep(1)
        body = json.dumps({"name": repo, "tags": tags}).encode()
        self.send(200, [("Content-Type", "application/json"), ("Link", '<%s>; rel="next"' % nxt)], body)
        return 200

    def fault(self, path):
        for f in ("f-tagsslow", "f-pagesslow", "f-cycle", "f-samepage", "f-endless", "f-reflect",
                  "f-escrealm", "f-escdigest", "f-ctype", "f-race", "f-latesteal", "f-steal", "f-revert", "f-nomount", "f-delfail", "f-delslow", "f-putlatest", "f-sigfail", "f-blobtaken", "f-halfput", "f-sigalways", "f-sigrace", "f-lag", "f-repush", "f-longloc", "f-uploadfail", "f-uploadonce", "f-429", "f-500once", "f-500x", "f-401", "f-403", "f-trunc", "f-big", "f-slow",
                  "f-abslink"):
            if "/" + f in path or path.startswith("/v2/" + f):
                return f
        return None

    def reset(self):
        """POST /-/reset?repo=R forgets every fault's memory of repository R
        (every repository without ?repo=): its first requests are first
        again. Faults remember per repository; nothing else forgets."""
        q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
        repo = q.get("repo", [None])[0]
        def mine(x):  # a repository name, "/v2/NAME" or "/v2/NAME/..."
            return repo is None or x in (repo, "/v2/" + repo) or x.startswith("/v2/%s/" % repo)
        with Proxy.lock:
            Proxy.firsts = {k for k in Proxy.firsts if not mine(k[1])}
            Proxy.done = {k for k in Proxy.done if not mine(k[1])}
            Proxy.doom = {k: v for k, v in Proxy.doom.items() if not mine(k)}
        self.send(200, [("Content-Type", "text/plain")], b"reset\n")

    def handle_any(self):
        a = self.server.args
        self.t0 = time.time()
        body = self.read_body()
        if self.command == "POST" and self.path.startswith("/-/reset"):
            return self.reset()
        self.link("up", len(body))
        path = self.logpath = self.path
        if path.startswith("/pad/") and "/v2/" in path:
            path = path[path.index("/v2/"):]  # the long redirect, followed
        elif path.startswith("/pad/"):
            path = "/v2/not-found/pad"         # a Location cut short
        f = self.fault(path)
        time.sleep(a.delay_ms / 1000.0)
        status = None
        if f in ("f-429", "f-500once"):
            with Proxy.lock:
                first = (self.command, path) not in Proxy.firsts
                Proxy.firsts.add((self.command, path))
            if first:
                status = 429 if f == "f-429" else 500
                hs = [("Retry-After", "1")] if f == "f-429" else []
                err = {"errors": [{"code": "TOOMANYREQUESTS" if status == 429 else "UNKNOWN",
                                   "message": "slow down" if status == 429 else "try again"}]}
                self.send(status, hs + [("Content-Type", "application/json")], json.dumps(err).encode())
        elif f == "f-500x":
            status = 500
            self.send(500, [("Content-Type", "application/json")],
                      b'{"errors":[{"code":"UNKNOWN","message":"storage exploded"}]}')
        elif f == "f-401":
            status = 401
            self.send(401, [("WWW-Authenticate", 'Basic realm="test"'), ("Content-Type", "application/json")],
                      b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}')
        elif f == "f-403":
            status = 403
            self.send(403, [("Content-Type", "application/json")],
                      b'{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}')
        elif f == "f-longloc" and self.command == "GET" and "/blobs/sha256:" in path \
                and not self.path.startswith("/pad/"):
            status = 307
            pad = "x" * (20000 if "f-longloc-huge" in path else 5000)
            self.send(307, [("Location", "http://%s/pad/%s%s" % (self.headers.get("Host"), pad, path))], b"")
        elif f == "f-slow":
            time.sleep(5)
        elif f == "f-tagsslow" and "/tags/list" in path:
            with open(a.log, "a") as fh:
                fh.write("BEGIN %s %s\n" % (self.command, path))
            time.sleep(30)
            status = 500
            self.send(500, [], b"")
        elif f in ("f-pagesslow", "f-cycle", "f-samepage", "f-endless") and "/tags/list" in path:
            status = self.tags_page(f, path)
        elif f == "f-reflect" and path != "/v2/":
            h = self.headers.get("Authorization", "")
            if not h.startswith("Basic "):
                status = 401
                self.send(401, [("WWW-Authenticate", 'Basic realm="reflect"')], b"")
            else:
                user, _, pw = base64.b64decode(h[6:]).decode().partition(":")
                msg = "no access for %s with password %s (%s, %s); you sent: %s" % (
                    user, pw, h[6:], base64.b64encode(pw.encode()).decode(), h)
                status = 403
                self.send(403, [("Content-Type", "application/json")],
                          json.dumps({"errors": [{"code": "DENIED", "message": msg}]}).encode())
        elif f == "f-delfail" and self.command == "DELETE" and "/manifests/sha256:" in path \
                and self.doomed(path[:path.index("/manifests/")], path.split("/manifests/")[1]):
            status = 500
            self.send(500, [("Content-Type", "application/json")],
                      b'{"errors":[{"code":"UNKNOWN","message":"delete failed"}]}')
        elif f in ("f-uploadfail", "f-uploadonce") and self.command == "PUT" and \
                "/manifests/sha256:" in path and \
                (f == "f-uploadfail" or self.once(("uploadonce", path.split("/manifests/")[0]))):
            status = 500
            self.send(500, [("Content-Type", "application/json")],
                      b'{"errors":[{"code":"UNKNOWN","message":"no uploads today"}]}')
        elif f == "f-putlatest" and self.command == "PUT" and path.endswith("/manifests/latest"):
            status = 500
            self.send(500, [("Content-Type", "application/json")],
                      b'{"errors":[{"code":"UNKNOWN","message":"cannot write latest"}]}')
        elif f == "f-blobtaken" and self.command == "PUT" and "/blobs/uploads/" in path and \
                "digest=" in path and (self.headers.get("User-Agent") or "").startswith("regpush/") and \
                self.once(("blobtaken", path.split("/blobs/")[0])):
            relay(self, a.upstream, path, body)
            status = 500
            self.send(500, [("Content-Type", "application/json")],
                      b'{"errors":[{"code":"UNKNOWN","message":"the answer was lost"}]}')
        elif f == "f-halfput" and self.command == "PUT" and "/blobs/uploads/" in path and \
                "digest=" in path and self.once(("halfput", path.split("/blobs/")[0])):
            self.half_upstream(path, body)
            status = 0
            with open(a.log, "a") as fh:
                fh.write("%s %s reset t=%.4f d=%.4f ua=%s\n" % (
                    self.command, path, self.t0, time.time() - self.t0,
                    self.headers.get("User-Agent", "-").split("/")[0].split()[0]))
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
        elif f == "f-sigfail" and self.command == "PUT" and "/manifests/sha256-" in path and path.endswith(".sig"):
            status = 500
            self.send(500, [("Content-Type", "application/json")],
                      b'{"errors":[{"code":"UNKNOWN","message":"cannot write the signature"}]}')
        elif f == "f-delslow" and self.command == "DELETE":
            with open(a.log, "a") as fh:
                fh.write("BEGIN %s %s\n" % (self.command, path))
            time.sleep(3)
        elif f == "f-escrealm":
            status = 401
            self.send(401, [("WWW-Authenticate", 'Bearer realm="http://127.0.0.1:9/\x1b[31mtoken\rX",service="s"')], b"")
        if status is None and f == "f-race" and self.command == "PUT" and "/manifests/" in path \
                and "/manifests/sha256:" not in path:
            repo = path[len("/v2/"):path.index("/manifests/")]
            if self.once(("race", repo)):
                self.copy_seed(repo, "v1.2.4")
        if status is None and f == "f-repush" and self.command == "GET" and "/blobs/sha256:" in path:
            repo = path[len("/v2/"):path.index("/blobs/")]
            if self.once(("repush", repo)):
                self.copy_seed(repo, "feature-x")
        if status is None and f == "f-nomount" and self.command == "POST" and "mount=" in path:
            path = path.split("?")[0]
            self.logpath = path
        if status is None:
            status, rh, rb = relay(self, a.upstream, path, body)
            time.sleep(a.delay_ms / 1000.0)
            steal = None
            if f == "f-steal" and self.command == "PUT" and "/manifests/v" in path and status == 201:
                repo = path[len("/v2/"):path.index("/manifests/")]
                tag = path[path.index("/manifests/") + len("/manifests/"):]
                parts = tag[1:].split(".")
                if len(parts) == 3 and all(x.isdigit() for x in parts) and self.once(("steal", repo)):
                    steal = (repo, tag)
            if f == "f-revert" and self.command == "PUT" and path.endswith("/manifests/latest") \
                    and status == 201:
                repo = path[len("/v2/"):path.index("/manifests/")]
                if self.once(("revert", repo)):
                    steal = (repo, "latest")
            if f == "f-latesteal" and self.command == "PUT" and "/manifests/v" in path and status == 201:
                repo = path[len("/v2/"):path.index("/manifests/")]
                tag = path[path.index("/manifests/") + len("/manifests/"):]
                if len(tag[1:].split(".")) == 3 and self.once(("latesteal", repo)):
                    threading.Timer(0.05, self.copy_seed, (repo, tag)).start()
            if steal:
                self.copy_seed(*steal)
            if f == "f-sigrace" and self.command == "PUT" and status == 201 and \
                    "/manifests/sha256-" in path and path.endswith(".sig"):
                repo = path[len("/v2/"):path.index("/manifests/")]
                if self.once(("sigrace", repo)):
                    self.foreign_sig(repo, path[path.index("/manifests/") + len("/manifests/"):])
            if f == "f-sigalways" and self.command == "PUT" and status == 201 and \
                    "/manifests/sha256-" in path and path.endswith(".sig") and \
                    path[:path.index("/manifests/")].rsplit("/", 1)[0].endswith("-prod") and \
                    (self.headers.get("User-Agent") or "").startswith("regpush/"):
                repo = path[len("/v2/"):path.index("/manifests/")]
                self.foreign_sig(repo, path[path.index("/manifests/") + len("/manifests/"):])
            if f == "f-escdigest" and self.command == "PUT" and "/manifests/" in path:
                rh = [(k, "sha256:\x1b[2Jevil" if k.lower() == "docker-content-digest" else v) for k, v in rh]
            if f == "f-ctype" and "/manifests/" in path and self.command in ("GET", "HEAD"):
                rh = [(k, "text/html" if k.lower() == "content-type" else v) for k, v in rh]
            if f == "f-abslink":
                rh = [(k, ("<http://%s%s" % (self.headers.get("Host"), v[1:])) if k.lower() == "link" else v)
                      for k, v in rh]
            if f == "f-trunc" and self.command == "GET" and "/manifests/" in path and status == 200:
                self.send(200, rh, rb[: len(rb) // 2], length=len(rb))
                self.close_connection = True
            elif f == "f-lag" and "/tags/list" in path and status == 200 and "last=" not in path:
                doc = json.loads(rb)
                doc["tags"] = sorted(set((doc.get("tags") or []) + ["latest"]))
                self.send(200, [(k, v) for k, v in rh if k.lower() != "content-length"],
                          json.dumps(doc).encode())
            elif f == "f-big" and "/tags/list" in path:
                big = json.dumps({"name": "x", "tags": ["t%07d" % i for i in range(600000)]}).encode()
                self.send(200, [("Content-Type", "application/json")], big)
            else:
                self.send(status, rh, rb)

    do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = handle_any


class Chaos(http.server.BaseHTTPRequestHandler):
    """The seeded random fault proxy (see the module's help)."""
    protocol_version = "HTTP/1.1"
    KINDS = ("500", "502", "503", "429", "reset", "upreset", "stall", "trunc")
    seen = {}
    count = 0
    lock = threading.Lock()

    def log_message(self, *a):
        pass

    def key(self):
        u = urllib.parse.urlparse(self.path)
        path = re.sub(r"/blobs/uploads/[^/]+$", "/blobs/uploads/*", u.path)
        q = urllib.parse.parse_qs(u.query)
        return "%s %s %s" % (self.command, path, ",".join(q.get("digest", [])))

    def decide(self, has_body):
        """(kind, when) or (None, None), from the seed and the request."""
        a = self.server.args
        k = self.key()
        with Chaos.lock:
            n = Chaos.seen.get(k, 0)
            Chaos.seen[k] = n + 1
            Chaos.count += 1
            if Chaos.count > a.max_requests:
                self.server.stop("more than %d requests" % a.max_requests)
        if a.always == "401":
            return "401", "before"
        if a.always == "manifest-put-500" and self.command == "PUT" and "/manifests/" in self.path:
            return "500", "before"
        h = hashlib.sha256(("%d|%s|%d" % (a.seed, k, n)).encode()).digest()
        if int.from_bytes(h[:4], "big") >= a.rate * (2 ** 32) / 100:
            return None, None
        kinds = [x for x in a.kinds if x != "upreset" or has_body]
        kind = kinds[h[4] % len(kinds)]
        when = "before" if kind in ("429", "upreset") else "after" if kind in ("reset", "trunc") \
            else ("before", "after")[h[5] % 2]
        return kind, when

    def logline(self, status, fault=None):
        with open(self.server.args.log, "a") as fh:
            fh.write("%s %s %s%s\n" % (self.command, self.path, status,
                                         " fault=%s/%s" % fault if fault[0] else ""))

    def reset(self):
        """A TCP reset: SO_LINGER with a zero timeout, then close."""
        try:
            self.wfile.flush()
        except OSError:
            pass
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True

    def answer(self, code, headers, body, send=None):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body if send is None else body[:send])

    def control(self):
        q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query, keep_blank_values=True)
        a = self.server.args
        if "rate" in q:
            a.rate = float(q["rate"][0])
        if "always" in q:
            a.always = q["always"][0] or None
        self.logline(200, (None, None))
        self.answer(200, [], b"")

    def handle_any(self):
        a = self.server.args
        if self.path.startswith("/-/chaos"):
            return self.control()
        n = int(self.headers.get("Content-Length", "0") or 0)
        chunked = self.headers.get("Transfer-Encoding", "").lower() == "chunked"
        fault = self.decide(n > 0 or chunked)
        kind, when = fault
        if kind == "upreset":
            if chunked:
                self.rfile.readline()
            else:
                self.rfile.read(n // 2)
            self.logline("-", fault)
            return self.reset()
        body = Proxy.read_body(self)
        err = lambda code: json.dumps({"errors": [{"code": "UNAVAILABLE" if code != 500 else "UNKNOWN",
                                                   "message": "chaos %d" % code}]}).encode()
        if when == "before":
            if kind == "stall":
                self.logline("-", fault)
                time.sleep(a.stall_s)
                return self.reset()
            if kind == "401":
                self.logline(401, fault)
                return self.answer(401, [("WWW-Authenticate", 'Basic realm="chaos"'),
                                         ("Content-Type", "application/json")],
                                   b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}')
            code = int(kind)
            self.logline(code, fault)
            hs = [("Retry-After", "1")] if code == 429 else []
            return self.answer(code, hs + [("Content-Type", "application/json")], err(code))
        status, rh, rb = relay(self, a.upstream, self.path, body)
        self.logline(status, fault)
        if kind is None:
            return self.answer(status, rh, rb)
        if kind == "stall":
            time.sleep(a.stall_s)
            return self.reset()
        if kind in ("reset", "trunc"):
            if kind == "trunc" and self.command != "HEAD" and rb:
                self.answer(status, rh, rb, send=len(rb) // 2)
                self.wfile.flush()
                self.close_connection = True
                return
            self.answer(status, rh, rb, send=len(rb) // 2)
            return self.reset()
        code = int(kind)
        return self.answer(code, [("Content-Type", "application/json")], err(code))

    do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = handle_any


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def get_request(self):
        # http.server writes the headers and the body separately: without
        # TCP_NODELAY, Nagle holds the body until the client's delayed ACK
        # (40 ms), which is no part of the round trip this proxy emulates.
        s, addr = super().get_request()
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return s, addr

    def handle_error(self, request, client_address):
        # A client that gave up on a stalled or reset exchange is expected
        # in chaos mode; anything else is printed.
        if not isinstance(sys.exc_info()[1], (ConnectionError, BrokenPipeError, OSError)):
            super().handle_error(request, client_address)

    def stop(self, why):
        with open(self.args.log, "a") as fh:
            fh.write("STOP %s\n" % why)
        print("chaos: stopping: %s" % why, flush=True)
        os._exit(0)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["token", "proxy", "chaos"])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--key")
    p.add_argument("--cert")
    p.add_argument("--user")
    p.add_argument("--password")
    p.add_argument("--upstream")
    p.add_argument("--delay-ms", type=float, default=0)
    p.add_argument("--mbit", type=float, default=0)
    p.add_argument("--log", default="/dev/null")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--rate", type=float, default=0)
    p.add_argument("--kinds", default=",".join(Chaos.KINDS))
    p.add_argument("--always", choices=["manifest-put-500", "401"])
    p.add_argument("--stall-s", type=float, default=3)
    p.add_argument("--max-seconds", type=float, default=900)
    p.add_argument("--max-requests", type=int, default=50000)
    a = p.parse_args()
    a.kinds = [k for k in a.kinds.split(",") if k]
    if any(k not in Chaos.KINDS for k in a.kinds) or not a.kinds:
        p.error("--kinds: one or more of " + ",".join(Chaos.KINDS))
    if a.mode == "token":
        der = subprocess.run(["openssl", "x509", "-in", a.cert, "-outform", "DER"],
                             capture_output=True, check=True).stdout
        a.der = base64.b64encode(der).decode()
        handler = Token
    else:
        handler = Chaos if a.mode == "chaos" else Proxy
    srv = Server(("127.0.0.1", a.port), handler)
    srv.args = a
    if a.mode == "chaos":
        t = threading.Timer(a.max_seconds, srv.stop, ("after %g s" % a.max_seconds,))
        t.daemon = True
        t.start()
    # The supervisor (tests/peers.py) stops this process with SIGTERM and
    # reports it if it ends any other way; a fault in the interpreter
    # prints its stack (faulthandler) to the log the supervisor shows.
    faulthandler.enable()
    print("ready %d" % srv.server_address[1], flush=True)
    # The ready line went to the supervisor's pipe; the rest goes where
    # stderr goes (its log), so a pipe nobody reads cannot fill up.
    os.dup2(2, 1)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
