#!/usr/bin/env python3
"""Runs the chain of examples/*.yml as they are written, the way GitHub
Actions would, against the test registries (tests/with-registries.sh):

  1. a push to feature/login: dev-build.yml plans, builds with the plan's
     labels (buildah, as the example's run: says) and pushes dev-<sha7>;
  2. a pull request from this repository: test-pr-7, built from the PR's
     head commit; one from a fork: the plan only, nothing pushed;
  3. the tag v1.0.0-rc.1 on the feature commit: release.yml promotes
     dev-<sha7> to staging; then v1.0.0: staging to production;
  4. prune.yml, dry run and real run, over its services;
  5. audit.yml over the same services: the chain left no drift.

It ends with a release whose digest is the feature build's. Each step runs
as the runner would: `uses: actions/checkout` checks out the ref it is
given (default: github.sha) in the workspace, a git repository of the
test's; `uses: kubernaut/regpush@…` runs through tests/run-action.py (the
binary $REGPUSH_BIN, with the runner's environment); `run:` runs with bash
-eo pipefail and its env:. `if:` conditions and ${{ }} are evaluated with
the contexts github, steps, secrets, env and matrix and the operators
== != && || ! ( ); anything else (a function, another context) fails the
test, so an example that drifts from what this can follow fails it.
Workflow env DEV_REGISTRY and PROD_REGISTRY are pointed at the test
registry (TLS with basic auth) and every secret holds its account.
Exit 0, or 1 naming what failed."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
REPO = "acme/gateway"


class Fail(Exception):
    pass


# ---- expressions -------------------------------------------------------

TOKEN = re.compile(r"\s*(?:(==|!=|&&|\|\||!|\(|\))|'((?:[^']|'')*)'|([A-Za-z_][A-Za-z0-9_-]*"
                   r"(?:\.[A-Za-z_*][A-Za-z0-9_-]*)*)|(\d+))")
CONTEXTS = ("github", "steps", "secrets", "vars", "env", "matrix")


def tokens(src):
    out, i = [], 0
    while i < len(src):
        if src[i:].strip() == "":
            break
        m = TOKEN.match(src, i)
        if not m:
            raise Fail("expression %r: cannot read %r" % (src, src[i:]))
        i = m.end()
        if m.group(1):
            out.append(("op", m.group(1)))
        elif m.group(2) is not None:
            out.append(("str", m.group(2).replace("''", "'")))
        elif m.group(3):
            out.append(("name", m.group(3)))
        else:
            out.append(("num", int(m.group(4))))
    return out


def lookup(name, ctx):
    if name in ("true", "false", "null"):
        return {"true": True, "false": False, "null": None}[name]
    parts = name.split(".")
    if parts[0] not in CONTEXTS:
        raise Fail("expression uses %r: only %s are followed" % (name, ", ".join(CONTEXTS)))
    v = ctx
    for p in parts:
        if not isinstance(v, dict):
            return None
        v = v.get(p)
    return v


def evaluate(src, ctx):
    toks = tokens(src)
    pos = [0]

    def peek():
        return toks[pos[0]] if pos[0] < len(toks) else (None, None)

    def take():
        t = peek()
        pos[0] += 1
        return t

    def primary():
        kind, val = take()
        if kind == "op" and val == "(":
            v = disj()
            if take() != ("op", ")"):
                raise Fail("expression %r: ')' expected" % src)
            return v
        if kind == "op" and val == "!":
            return not truthy(primary())
        if kind == "name":
            if peek() == ("op", "("):
                raise Fail("expression %r calls %s(): functions are not followed" % (src, val))
            return lookup(val, ctx)
        if kind in ("str", "num"):
            return val
        raise Fail("expression %r: unexpected %r" % (src, val))

    def comparison():
        v = primary()
        while peek() in (("op", "=="), ("op", "!=")):
            op = take()[1]
            w = primary()
            a = "" if v is None else str(v).lower() if isinstance(v, str) else v
            b = "" if w is None else str(w).lower() if isinstance(w, str) else w
            v = (a == b) if op == "==" else (a != b)
        return v

    def conj():
        v = comparison()
        while peek() == ("op", "&&"):
            take()
            w = comparison()
            v = w if truthy(v) else v
        return v

    def disj():
        v = conj()
        while peek() == ("op", "||"):
            take()
            w = conj()
            v = v if truthy(v) else w
        return v

    v = disj()
    if pos[0] != len(toks):
        raise Fail("expression %r: trailing %r" % (src, toks[pos[0]:]))
    return v


def truthy(v):
    return v not in (None, False, 0, "")


def text(v):
    if v is None:
        return ""
    if v is True or v is False:
        return "true" if v else "false"
    return str(v)


def interpolate(s, ctx):
    if not isinstance(s, str):
        return text(s)
    return re.sub(r"\$\{\{(.*?)\}\}", lambda m: text(evaluate(m.group(1), ctx)), s, flags=re.S)


def condition(s, ctx):
    if s is None:
        return True
    s = str(s).strip()
    m = re.fullmatch(r"\$\{\{(.*)\}\}", s, flags=re.S)
    return truthy(evaluate(m.group(1) if m else s, ctx))


# ---- a workflow run ----------------------------------------------------

class Runner:
    def __init__(self, work, regpush, registry, user, password, ca):
        self.work = work
        self.ws = os.path.join(work, "workspace")
        self.regpush = regpush
        self.registry = registry
        self.secrets = {n: user if n.endswith("_ROBOT") else password for n in (
            "QUAY_DEV_ROBOT", "QUAY_DEV_TOKEN", "QUAY_STAGING_ROBOT", "QUAY_STAGING_TOKEN",
            "QUAY_RELEASE_ROBOT", "QUAY_RELEASE_TOKEN")}
        # The signing key, made by cosign (its own format, a passphrase).
        kd = os.path.join(work, "cosign")
        os.makedirs(kd)
        subprocess.run([os.environ["REGPUSH_TEST_COSIGN"], "generate-key-pair", "--output-key-prefix",
                        kd + "/ci"], check=True, capture_output=True,
                       env={"PATH": "/usr/bin:/bin", "HOME": "/tmp", "COSIGN_PASSWORD": "chain pw"})
        self.secrets["COSIGN_PRIVATE_KEY"] = open(kd + "/ci.key").read()
        self.secrets["COSIGN_PASSWORD"] = "chain pw"
        self.vars = {"COSIGN_PUBLIC_KEY": open(kd + "/ci.pub").read()}
        self.ca = ca
        self.log = []
        conf = os.path.join(work, "storage.conf")
        with open(conf, "w") as f:
            f.write('[storage]\ndriver = "vfs"\ngraphroot = "%s/storage"\nrunroot = "%s/run"\n'
                    % (work, work))
        self.build_env = {"CONTAINERS_STORAGE_CONF": conf, "STORAGE_DRIVER": "vfs",
                          "BUILDAH_ISOLATION": "chroot"}

    def git(self, *args):
        return subprocess.run(["git", "-C", self.ws] + list(args), check=True, capture_output=True,
                              text=True).stdout.strip()

    def run(self, workflow, event_name, ref, sha, event):
        """Runs every job of the workflow file for one event; returns
        {job: {step_id: outputs}} and the step results."""
        with open(os.path.join(ROOT, "examples", workflow)) as f:
            wf = yaml.safe_load(f)
        evfile = os.path.join(self.work, "event.json")
        with open(evfile, "w") as f:
            json.dump(event, f)
        github = {"event_name": event_name, "ref": ref, "sha": sha, "repository": REPO,
                  "ref_name": re.sub(r"^refs/(heads|tags)/", "", ref), "event": event,
                  "ref_type": "tag" if ref.startswith("refs/tags/") else "branch",
                  "workspace": self.ws, "server_url": "https://github.com"}
        wenv = {k: text(v) for k, v in (wf.get("env") or {}).items()}
        # The test's registries instead of quay.io.
        wenv.update(DEV_REGISTRY=self.registry + "/chain-dev", PROD_REGISTRY=self.registry + "/chain-prod")
        ran = {}
        for jname, job in (wf.get("jobs") or {}).items():
            ctx = {"github": github, "secrets": self.secrets, "vars": self.vars, "env": dict(wenv),
                   "steps": {}, "matrix": {}}
            if not condition(job.get("if"), ctx):
                continue
            for k, v in (job.get("env") or {}).items():
                ctx["env"][k] = interpolate(v, ctx)
            results = []
            for n, step in enumerate(job.get("steps") or []):
                sid = step.get("id") or "step%d" % n
                if not condition(step.get("if"), ctx):
                    results.append((sid, "skipped"))
                    continue
                env = dict(ctx["env"])
                for k, v in (step.get("env") or {}).items():
                    env[k] = interpolate(v, ctx)
                outs = self.step(step, ctx, env, github, evfile, "%s/%s/%s" % (workflow, jname, sid))
                ctx["steps"][sid] = {"outputs": outs, "outcome": "success"}
                results.append((sid, "success"))
            ran[jname] = (ctx["steps"], results)
        return ran

    def step(self, step, ctx, env, github, evfile, where):
        uses = step.get("uses")
        withs = {k: interpolate(v, ctx) for k, v in (step.get("with") or {}).items()}
        if uses is not None and uses.startswith("actions/checkout@"):
            ref = withs.get("ref") or github["sha"]
            self.git("checkout", "-q", "--detach", ref)
            return {}
        if uses is not None and uses.startswith("kubernaut/regpush@"):
            cmd = [sys.executable, os.path.join(HERE, "run-action.py"), "--bin", self.regpush,
                   "--workspace", self.ws, "--ref", github["ref"], "--sha", github["sha"],
                   "--event-name", github["event_name"], "--event", evfile, "--repository", REPO,
                   "--env", "SSL_CERT_FILE=" + self.ca, "--env", "TMPDIR=" + self.work,
                   "--env", "GITHUB_WORKFLOW_REF=%s/.github/workflows/%s@%s" % (
                       REPO, where.split("/")[0], github["ref"])]
            for k, v in withs.items():
                cmd += ["--with", "%s=%s" % (k, v)]
            for k, v in env.items():
                cmd += ["--env", "%s=%s" % (k, v)]
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
            if r.returncode != 0:
                raise Fail("%s: run-action: %s" % (where, r.stderr))
            res = json.loads(r.stdout)
            self.log.append((where, res))
            if res["exit"] != 0:
                raise Fail("%s: regpush exit %d\n%s%s" % (where, res["exit"], res["stdout"], res["stderr"]))
            return res["outputs"]
        if uses is not None:
            raise Fail("%s: uses %s, which this test does not follow" % (where, uses))
        if "run" not in step:
            raise Fail("%s: neither uses nor run" % where)
        script = interpolate(step["run"], ctx)
        out = os.path.join(self.work, "run-output")
        open(out, "w").close()
        full = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/root"),
                "GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": self.ws, "GITHUB_OUTPUT": out,
                "GITHUB_REF": github["ref"], "GITHUB_SHA": github["sha"]}
        full.update(self.build_env)
        full.update(env)
        r = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
                           cwd=self.ws, env=full, capture_output=True, text=True, timeout=600)
        self.log.append((where, {"stdout": r.stdout, "stderr": r.stderr}))
        if r.returncode != 0:
            raise Fail("%s: run: exit %d\n%s%s" % (where, r.returncode, r.stdout, r.stderr))
        return {}


def http_json(registry, path, ca, user, password, headers=True):
    # The password goes to curl in a config on stdin, never in argv.
    r = subprocess.run(["curl", "-sf", "--cacert", ca, "-K", "-",
                        "-H", "Accept: application/vnd.oci.image.index.v1+json, "
                        "application/vnd.oci.image.manifest.v1+json"] +
                       (["-D", "-", "-o", "/dev/null"] if headers else []) +
                       ["https://%s%s" % (registry, path)],
                       input='user = "%s:%s"\n' % (user, password), capture_output=True, text=True)
    return r.returncode, r.stdout


def digest_at(registry, repo, tag, ca, user, password):
    rc, out = http_json(registry, "/v2/%s/manifests/%s" % (repo, tag), ca, user, password)
    if rc != 0:
        return None
    m = re.search(r"(?im)^docker-content-digest:\s*(\S+)", out)
    return m.group(1) if m else None


def tags_of(registry, repo, ca, user, password):
    rc, out = http_json(registry, "/v2/%s/tags/list" % repo, ca, user, password, headers=False)
    if rc != 0:
        return []
    return sorted(json.loads(out).get("tags") or [])


def main():
    regpush = os.environ["REGPUSH_BIN"]
    registry = os.environ["REGPUSH_TEST_TLS"]
    user, password = os.environ["REGPUSH_TEST_USER"], os.environ["REGPUSH_TEST_PASS"]
    ca = os.path.join(os.environ["REGPUSH_TEST_CA_DIR"], "ca.crt")
    work = tempfile.mkdtemp(prefix="regpush-chain.")
    ok = []

    def expect(cond, what):
        if not cond:
            raise Fail(what)
        ok.append(what)

    try:
        r = Runner(work, regpush, registry, user, password, ca)
        os.makedirs(r.ws)
        subprocess.run(["git", "init", "-q", "-b", "develop", r.ws], check=True)
        r.git("config", "user.email", "ci@example.com")
        r.git("config", "user.name", "ci")
        with open(os.path.join(r.ws, "Containerfile"), "w") as f:
            f.write("FROM scratch\nCOPY hello.txt /hello.txt\n")
        with open(os.path.join(r.ws, "hello.txt"), "w") as f:
            f.write("hello from the feature branch\n")
        r.git("add", ".")
        r.git("commit", "-q", "-m", "feature: login")
        s1 = r.git("rev-parse", "HEAD")
        with open(os.path.join(r.ws, "hello.txt"), "w") as f:
            f.write("hello from a pull request\n")
        r.git("commit", "-q", "-am", "pr: change")
        s2 = r.git("rev-parse", "HEAD")
        dev, prod = "chain-dev/gateway", "chain-prod/gateway"

        # 1. A push to feature/login builds and pushes dev-<sha7>.
        ran = r.run("dev-build.yml", "push", "refs/heads/feature/login", s1, {"ref": "refs/heads/feature/login"})
        steps, _ = ran["build"]
        plan, push = steps["plan"]["outputs"], steps["push"]["outputs"]
        expect(plan.get("result") == "planned", "dev-build: the plan step plans")
        feature_digest = push.get("digest")
        expect(push.get("result") == "pushed" and feature_digest,
               "dev-build: the push step pushed (%s)" % push.get("result"))
        expect(digest_at(registry, dev, "dev-" + s1[:7], ca, user, password) == feature_digest,
               "dev-build: dev-<sha7> holds the built image")
        expect(digest_at(registry, dev, "feature-login", ca, user, password) == feature_digest,
               "dev-build: feature-login too")
        expect(push.get("image") == "%s/%s@%s" % (registry, dev, feature_digest),
               "dev-build: output image is repository@digest")
        sig = push.get("signature")
        expect(sig and digest_at(registry, dev, "sha256-%s.sig" % feature_digest[7:], ca, user,
                                 password) == sig, "dev-build: signed (output signature is the .sig)")
        expect(digest_at(registry, dev, "sha256-%s.att" % feature_digest[7:], ca, user, password),
               "dev-build: the provenance attestation is there")
        rec = [res for where, res in r.log if where.endswith("/step4")]
        expect(rec and ("push pushed: %s/%s@%s" % (registry, dev, feature_digest)) in rec[-1]["stdout"],
               "dev-build: the record step read the outputs through env:")

        # 2. Pull requests: ours is built from its head commit; a fork's stops at the plan.
        pr = {"number": 7, "pull_request": {"number": 7, "head": {"sha": s2, "repo": {"full_name": REPO}}}}
        ran = r.run("dev-build.yml", "pull_request", "refs/pull/7/merge", "f" * 40, pr)
        steps, results = ran["build"]
        pr_digest = steps["push"]["outputs"].get("digest")
        expect(digest_at(registry, dev, "test-pr-7", ca, user, password) == pr_digest and pr_digest,
               "pull request: test-pr-7 pushed")
        expect(r.git("rev-parse", "HEAD") == s2, "pull request: the head commit was checked out")
        expect(pr_digest != feature_digest, "pull request: its own image, from its own commit")
        fork = {"number": 8, "pull_request": {"number": 8, "head": {"sha": s2, "repo": {"full_name": "fork/gateway"}}}}
        ran = r.run("dev-build.yml", "pull_request", "refs/pull/8/merge", "e" * 40, fork)
        steps, results = ran["build"]
        expect(dict(results).get("push") == "skipped" and steps["plan"]["outputs"].get("tag-names") == "test-pr-8",
               "fork pull request: planned, push skipped")
        expect(digest_at(registry, dev, "test-pr-8", ca, user, password) is None,
               "fork pull request: nothing pushed")

        # 3. Tags on the feature commit: promoted, never rebuilt.
        ran = r.run("release.yml", "push", "refs/tags/v1.0.0-rc.1", s1, {"ref": "refs/tags/v1.0.0-rc.1"})
        out = ran["promote"][0]["promote"]["outputs"]
        expect(out.get("digest") == feature_digest and out.get("result") == "pushed",
               "release v1.0.0-rc.1: promoted the feature build to staging")
        for t in ("staging-v1.0.0-rc.1", "staging-latest"):
            expect(digest_at(registry, prod, t, ca, user, password) == feature_digest, "staging: %s" % t)
        ran = r.run("release.yml", "push", "refs/tags/v1.0.0", s1, {"ref": "refs/tags/v1.0.0"})
        out = ran["promote"][0]["promote"]["outputs"]
        expect(out.get("source") == "%s/%s@%s" % (registry, prod, feature_digest),
               "release v1.0.0: promoted from staging")
        for t in ("v1.0.0", "v1.0", "v1", "latest"):
            expect(digest_at(registry, prod, t, ca, user, password) == feature_digest,
                   "production: %s is the feature build's digest" % t)
        expect(digest_at(registry, prod, "sha256-%s.sig" % feature_digest[7:], ca, user, password) == sig,
               "production: the signature travelled with the digest, byte for byte")
        expect(digest_at(registry, prod, "sha256-%s.att" % feature_digest[7:], ca, user, password),
               "production: the provenance travelled too")

        # 4. Retention over every service, dry run then the real one.
        before = tags_of(registry, prod, ca, user, password)
        ran = r.run("prune.yml", "schedule", "refs/heads/develop", s1, {})
        out = ran["prune"][0]["prune"]["outputs"]
        expect(out.get("result") == "unchanged" and out.get("deleted") == "0",
               "prune: nothing is past retention yet (%s)" % out.get("result"))
        expect(tags_of(registry, prod, ca, user, password) == before, "prune: the releases are all there")
        # 5. The nightly audit: what the chain wrote follows the policy.
        ran = r.run("audit.yml", "schedule", "refs/heads/develop", s1, {})
        out = ran["audit"][0]["audit"]["outputs"]
        expect(out.get("result") == "clean" and out.get("errors") == "0" and out.get("warnings") == "0",
               "audit: no drift after the chain (%s, %s errors, %s warnings)" % (
                   out.get("result"), out.get("errors"), out.get("warnings")))
        expect(tags_of(registry, prod, ca, user, password) == before, "audit: wrote nothing")
        for where, res in r.log:
            seen = res.get("stdout", "").replace("::add-mask::" + password + "\n", "") + res.get("stderr", "")
            if password in seen:
                raise Fail("%s: the password was printed other than in ::add-mask::" % where)
        ok.append("no step printed the password but to mask it")
        body = [l for l in r.secrets["COSIGN_PRIVATE_KEY"].splitlines() if l and not l.startswith("-----")]
        for where, res in r.log:
            seen = "\n".join(l for l in (res.get("stdout", "") + res.get("stderr", "")).splitlines()
                             if not l.startswith("::add-mask::"))
            if "chain pw" in seen or any(l in seen for l in body):
                raise Fail("%s: the signing key or its passphrase was printed" % where)
        ok.append("no step printed the signing key or its passphrase but to mask them")
        for w in ok:
            print("example-chain: ok: " + w)
        return 0
    except Fail as e:
        for w in ok:
            print("example-chain: ok: " + w)
        print("example-chain: FAILED: %s" % e, file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
