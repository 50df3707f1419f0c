#!/usr/bin/env python3
"""Seeds a repository of a plain-HTTP registry with N tags, each on an
image of its own (a config blob with a distinct `created` in 2020 and no
layers), for the prune benchmark. Standard library only.

  seed_tags.py HOST:PORT REPO N
"""
import hashlib
import http.client
import json
import sys


def main():
    host, repo, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    conn = http.client.HTTPConnection(host, timeout=60)
    for i in range(n):
        cfg = json.dumps({"created": "2020-01-01T00:00:%02dZ" % (i % 60), "architecture": "amd64",
                          "os": "linux", "config": {"Labels": {"n": str(i)}},
                          "rootfs": {"type": "layers", "diff_ids": []}}).encode()
        d = "sha256:" + hashlib.sha256(cfg).hexdigest()
        conn.request("POST", "/v2/%s/blobs/uploads/" % repo)
        r = conn.getresponse()
        r.read()
        loc = r.getheader("Location")
        loc = loc[loc.index("/v2/"):] if "://" in loc else loc
        conn.request("PUT", "%s%sdigest=%s" % (loc, "&" if "?" in loc else "?", d), body=cfg,
                     headers={"Content-Type": "application/octet-stream"})
        r = conn.getresponse()
        r.read()
        man = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                          "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                     "digest": d, "size": len(cfg)}, "layers": []}).encode()
        conn.request("PUT", "/v2/%s/manifests/dev-%07x" % (repo, i), body=man,
                     headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
        r = conn.getresponse()
        r.read()
        if r.status != 201:
            sys.exit("seeding %s: HTTP %d" % (repo, r.status))


if __name__ == "__main__":
    main()
