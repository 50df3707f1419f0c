#!/usr/bin/env python3
"""Test peers for regpush, standard library only.

  fakes.py token --port P --key KEY.pem --cert CERT.pem --user U --password PW --log FILE
      A Docker/distribution token server: GET /token?service=S&scope=...
      with Basic auth answers {"token": JWT} (RS256, x5c header, no
      expires_in). Repositories whose name contains "stingy" get only
      "pull" on regpush's first request for a scope set (to make the
      registry answer insufficient_scope). Anonymous callers get "pull" only.
      Repositories containing "access-token" are answered as
      {"access_token": ..., "expires_in": 300}. Every request is logged.

  fakes.py proxy --port P --upstream HOST:PORT [--delay-ms N]
      An HTTP proxy in front of a real registry, adding N ms before each
      request and each response (2N of round-trip time), and injecting
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
      Requests are logged one per line ("METHOD PATH STATUS") to --log.

Signing uses the openssl command line (no third-party Python modules).
"""
import argparse
import base64
import http.client
import http.server
import json
import os
import socketserver
import subprocess
import sys
import threading
import time
import urllib.parse


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
                self.answer(401, {"errors": [{"code": "UNAUTHORIZED", "message": "bad credentials"}]})
                self.logline(u.path, q, 401)
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
        else:
            body = {"token": tok}
        self.answer(200, body)
        self.logline(u.path, q, 200)

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
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def fault(self, path):
        for f in ("f-429", "f-500once", "f-500x", "f-401", "f-403", "f-trunc", "f-big", "f-slow",
                  "f-abslink"):
            if "/" + f in path or path.startswith("/v2/" + f):
                return f
        return None

    def handle_any(self):
        a = self.server.args
        body = self.read_body()
        path = self.path
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
        elif f == "f-slow":
            time.sleep(5)
        if status is None:
            conn = http.client.HTTPConnection(a.upstream, timeout=60)
            hs = {k: v for k, v in self.headers.items()
                  if k.lower() not in ("transfer-encoding", "content-length", "connection")}
            conn.request(self.command, path, body=body if body or self.command in ("PUT", "POST", "PATCH") else None,
                         headers=hs)
            r = conn.getresponse()
            rb = r.read()
            conn.close()
            status = r.status
            rh = [(k, v) for k, v in r.getheaders()
                  if k.lower() not in ("transfer-encoding", "content-length", "connection")]
            time.sleep(a.delay_ms / 1000.0)
            if f == "f-abslink":
                rh = [(k, ("<http://%s%s" % (self.headers.get("Host"), v[1:])) if k.lower() == "link" else v)
                      for k, v in rh]
            if f == "f-trunc" and self.command == "GET" and "/manifests/" in path and status == 200:
                self.send(200, rh, rb[: len(rb) // 2], length=len(rb))
                self.close_connection = True
            elif f == "f-big" and "/tags/list" in path:
                big = json.dumps({"name": "x", "tags": ["t%07d" % i for i in range(600000)]}).encode()
                self.send(200, [("Content-Type", "application/json")], big)
            else:
                self.send(status, rh, rb)
        with open(a.log, "a") as fh:
            fh.write("%s %s %d\n" % (self.command, path, status))

    do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = handle_any


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["token", "proxy"])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--key")
    p.add_argument("--cert")
    p.add_argument("--user")
    p.add_argument("--password")
    p.add_argument("--upstream")
    p.add_argument("--delay-ms", type=float, default=0)
    p.add_argument("--log", default="/dev/null")
    a = p.parse_args()
    if a.mode == "token":
        der = subprocess.run(["openssl", "x509", "-in", a.cert, "-outform", "DER"],
                             capture_output=True, check=True).stdout
        a.der = base64.b64encode(der).decode()
        handler = Token
    else:
        handler = Proxy
    srv = Server(("127.0.0.1", a.port), handler)
    srv.args = a
    print("ready", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
