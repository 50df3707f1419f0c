#!/usr/bin/env python3
"""A TLS server that records the protocol each connection negotiates
(ALPN, offering h2 and http/1.1), for the test that regpush speaks
HTTP/1.1 in every build. Answers every HTTP/1.1 request 404 and closes.
Usage: alpn-server.py CERT KEY PORTFILE LOG  (writes its port to PORTFILE)"""
import socket
import ssl
import sys

cert, key, portfile, log = sys.argv[1:5]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
ctx.set_alpn_protocols(["h2", "http/1.1"])
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(8)
with open(portfile + ".tmp", "w") as f:
    f.write(str(srv.getsockname()[1]))
import os
os.rename(portfile + ".tmp", portfile)
srv.settimeout(60)
while True:
    try:
        conn, _ = srv.accept()
    except socket.timeout:
        break
    try:
        s = ctx.wrap_socket(conn, server_side=True)
        proto = s.selected_alpn_protocol() or "none"
        with open(log, "a") as f:
            f.write(proto + "\n")
        if proto != "h2":
            s.settimeout(5)
            s.recv(65536)
            s.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        s.close()
    except (ssl.SSLError, OSError):
        conn.close()
