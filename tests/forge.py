#!/usr/bin/env python3
"""Writes manifests that the test images cannot produce, straight through
the registry API (plain HTTP), for promote's adversarial tests:

  forge.py annotate HOST REPO FROM TO KEY=VALUE
      REPO:FROM's manifest with an annotation added, PUT as REPO:TO;
  forge.py buildx HOST REPO FROM TO
      an index as buildx makes it: REPO:FROM's manifest (linux/amd64) and
      its provenance attestation (platform unknown/unknown, annotation
      vnd.docker.reference.type=attestation-manifest), PUT as REPO:TO;
  forge.py nest HOST REPO FROM TO [TO...]
      an index whose one entry is REPO:FROM's manifest by its exact bytes
      (itself an index: an index of indexes), PUT as each REPO:TO.
Prints the digest of what it PUT."""
import hashlib
import http.client
import json
import sys

OCI_M = "application/vnd.oci.image.manifest.v1+json"
OCI_I = "application/vnd.oci.image.index.v1+json"


def call(host, method, path, body=None, headers=None):
    c = http.client.HTTPConnection(host, timeout=30)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    return r, data


def get_manifest(host, repo, ref):
    r, data = call(host, "GET", "/v2/%s/manifests/%s" % (repo, ref),
                   headers={"Accept": OCI_M + ", " + OCI_I})
    if r.status != 200:
        sys.exit("forge: GET %s:%s: HTTP %d" % (repo, ref, r.status))
    return json.loads(data), r.getheader("Content-Type")


def put_manifest(host, repo, ref, doc, ctype):
    body = json.dumps(doc, separators=(",", ":")).encode()
    r, data = call(host, "PUT", "/v2/%s/manifests/%s" % (repo, ref), body=body,
                   headers={"Content-Type": ctype})
    if r.status != 201:
        sys.exit("forge: PUT %s:%s: HTTP %d %s" % (repo, ref, r.status, data[:200]))
    return "sha256:" + hashlib.sha256(body).hexdigest(), len(body)


def put_blob(host, repo, data):
    d = "sha256:" + hashlib.sha256(data).hexdigest()
    r, _ = call(host, "POST", "/v2/%s/blobs/uploads/" % repo)
    if r.status != 202:
        sys.exit("forge: POST upload: HTTP %d" % r.status)
    loc = r.getheader("Location")
    if loc.startswith("http"):
        loc = "/" + loc.split("/", 3)[3]
    r, _ = call(host, "PUT", loc + ("&" if "?" in loc else "?") + "digest=" + d, body=data,
                headers={"Content-Type": "application/octet-stream"})
    if r.status != 201:
        sys.exit("forge: PUT blob: HTTP %d" % r.status)
    return d, len(data)


def main():
    cmd, host, repo, src, dst = sys.argv[1:6]
    if cmd == "nest":
        r, raw = call(host, "GET", "/v2/%s/manifests/%s" % (repo, src),
                      headers={"Accept": OCI_M + ", " + OCI_I})
        if r.status != 200:
            sys.exit("forge: GET %s:%s: HTTP %d" % (repo, src, r.status))
        outer = {"schemaVersion": 2, "mediaType": OCI_I, "manifests": [
            {"mediaType": r.getheader("Content-Type").split(";")[0],
             "digest": "sha256:" + hashlib.sha256(raw).hexdigest(), "size": len(raw)}]}
        for to in sys.argv[5:]:
            d = put_manifest(host, repo, to, outer, OCI_I)[0]
        print(d)
        return
    doc, ctype = get_manifest(host, repo, src)
    if cmd == "annotate":
        k, v = sys.argv[6].split("=", 1)
        doc.setdefault("annotations", {})[k] = v
        print(put_manifest(host, repo, dst, doc, ctype)[0])
        return
    if cmd != "buildx":
        sys.exit("forge: unknown command " + cmd)
    child_body = json.dumps(doc, separators=(",", ":")).encode()
    child, clen = put_manifest(host, repo, "forge-child", doc, ctype)
    cfg, cfglen = put_blob(host, repo, b'{"architecture":"unknown","os":"unknown","config":{},'
                                       b'"rootfs":{"type":"layers","diff_ids":[]}}')
    layer, llen = put_blob(host, repo, b'{"_type":"https://in-toto.io/Statement/v0.1",'
                                       b'"predicateType":"https://slsa.dev/provenance/v0.2"}')
    att = {"schemaVersion": 2, "mediaType": OCI_M,
           "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cfg, "size": cfglen},
           "layers": [{"mediaType": "application/vnd.in-toto+json", "digest": layer, "size": llen,
                       "annotations": {"in-toto.io/predicate-type": "https://slsa.dev/provenance/v0.2"}}]}
    attd, attlen = put_manifest(host, repo, "forge-att", att, OCI_M)
    index = {"schemaVersion": 2, "mediaType": OCI_I, "manifests": [
        {"mediaType": OCI_M, "digest": child, "size": clen,
         "platform": {"architecture": "amd64", "os": "linux"}},
        {"mediaType": OCI_M, "digest": attd, "size": attlen,
         "platform": {"architecture": "unknown", "os": "unknown"},
         "annotations": {"vnd.docker.reference.digest": child,
                         "vnd.docker.reference.type": "attestation-manifest"}}]}
    d, _ = put_manifest(host, repo, dst, index, OCI_I)
    # The helper tags go: only TO names the index.
    for t in ("forge-child", "forge-att"):
        pass
    print(d)


main()
