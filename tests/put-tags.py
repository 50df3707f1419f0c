#!/usr/bin/env python3
"""Writes many tags fast, for tests at scale: the manifest of REPO:FROM is
PUT under PREFIX + a number of seven digits, COUNT times, eight at a time,
each tag padded with 'x' to LENGTH characters (at most 128).
Usage: put-tags.py HOST REPO FROM PREFIX COUNT [LENGTH]"""
import concurrent.futures
import http.client
import sys


def main():
    host, repo, src, prefix, count = sys.argv[1:6]
    length = int(sys.argv[6]) if len(sys.argv) > 6 else 0
    count = int(count)
    accept = ", ".join(["application/vnd.oci.image.manifest.v1+json",
                        "application/vnd.oci.image.index.v1+json",
                        "application/vnd.docker.distribution.manifest.v2+json",
                        "application/vnd.docker.distribution.manifest.list.v2+json"])
    c = http.client.HTTPConnection(host, timeout=30)
    c.request("GET", "/v2/%s/manifests/%s" % (repo, src), headers={"Accept": accept})
    r = c.getresponse()
    body = r.read()
    if r.status != 200:
        sys.exit("put-tags: GET %s:%s: HTTP %d" % (repo, src, r.status))
    ctype = r.getheader("Content-Type")

    def put(names):
        conn = http.client.HTTPConnection(host, timeout=30)
        for name in names:
            conn.request("PUT", "/v2/%s/manifests/%s" % (repo, name), body=body,
                         headers={"Content-Type": ctype})
            resp = conn.getresponse()
            resp.read()
            if resp.status != 201:
                raise SystemExit("put-tags: PUT %s:%s: HTTP %d" % (repo, name, resp.status))
        conn.close()

    names = []
    for i in range(count):
        t = "%s%07d" % (prefix, i)
        if len(t) < length:
            t += "x" * (length - len(t))
        names.append(t[:128])
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        list(ex.map(put, [names[k::8] for k in range(8)]))


main()
