#!/usr/bin/env python3
"""Runs the regpush action the way the GitHub Actions runner runs a Docker
container action (actions/runner: ContainerActionHandler, DockerRun), then
reads $GITHUB_OUTPUT with the runner's file-command rules. Prints one JSON
object: {"exit": N, "outputs": {...}, "summary": "...", "stdout": "...",
"stderr": "..."}. Exit status 0 unless the emulation itself failed.

  run-action.py (--bin PATH | --image NAME) --workspace DIR
                [--with NAME=VALUE ...] [--env NAME=VALUE ...]
                [--ref REF] [--sha SHA] [--event-name push]
                [--event FILE] [--repository OWNER/NAME] [--action action.yml]

What the runner does, and so this script:
  - every input of action.yml becomes INPUT_<NAME>: spaces to "_",
    uppercased, hyphens kept; an input not given gets its default (or "");
  - GITHUB_ACTIONS=true, CI=true, the GITHUB_* context (REF, SHA, EVENT_NAME,
    REPOSITORY, WORKSPACE, EVENT_PATH, OUTPUT, STEP_SUMMARY, ENV, PATH, ...),
    RUNNER_* and HOME, with the paths the container sees: /github/workspace,
    /github/workflow/event.json, /github/file_commands/set_output_<guid>,
    /github/home, /github/runner_temp; working directory /github/workspace;
  - runs.args evaluated with the inputs context (none today), appended to
    the image's ENTRYPOINT.
--bin runs the binary directly, with those directories made under one temp
root and the same names (GITHUB_WORKSPACE etc. then hold host paths, which
is what the runner's path translation undoes). --image runs the image with
a real Docker Engine (tests/with-docker.sh: `docker` on PATH) as the
runner's DockerRun does: docker run --rm --workdir /github/workspace, the
directories mounted at their /github paths, -v <engine socket>:/var/run/
docker.sock (REGPUSH_DOCKER_SOCK), every variable as `-e NAME` with its
value in docker's own environment (never on a command line), Docker's
default capabilities, and --network host for the job network (the engine
here has no bridge). An input whose value starts with the host workspace
path is translated to /github/workspace, as the runner translates values.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid

import yaml


def parse_file_command(text):
    """The runner's SetOutputFileCommand reader: NAME=VALUE, or NAME<<DELIM,
    lines, DELIM. Raises ValueError where the runner fails the step."""
    out, lines, i = {}, text.split("\n"), 0
    if lines and lines[-1] == "":
        lines.pop()
    while i < len(lines):
        line = lines[i]
        if line == "":
            i += 1
            continue
        eq, hd = line.find("="), line.find("<<")
        if hd >= 0 and (eq < 0 or hd < eq):
            name, delim = line[:hd], line[hd + 2:]
            if name == "" or delim == "":
                raise ValueError("Invalid format '%s'" % line)
            j, val = i + 1, []
            while j < len(lines) and lines[j] != delim:
                val.append(lines[j])
                j += 1
            if j >= len(lines):
                raise ValueError("Matching delimiter not found '%s'" % delim)
            if j == len(lines) - 1 and not text.endswith("\n"):
                raise ValueError("EOF marker missing new line")
            out[name] = "\n".join(val)
            i = j + 1
        elif eq > 0:
            out[line[:eq]] = line[eq + 1:]
            i += 1
        else:
            raise ValueError("Invalid format '%s'" % line)
    return out


def input_env(action, given):
    env = {}
    for name, spec in (action.get("inputs") or {}).items():
        v = given.get(name, (spec or {}).get("default", ""))
        env["INPUT_" + name.replace(" ", "_").upper()] = "" if v is None else str(v)
    unknown = set(given) - set(action.get("inputs") or {})
    if unknown:
        # The runner warns ("Unexpected input(s)") and still passes them.
        sys.stderr.write("run-action: unexpected input(s) %s\n" % sorted(unknown))
        for name in unknown:
            env["INPUT_" + name.replace(" ", "_").upper()] = given[name]
    return env


def eval_args(action, inputs):
    def one(a):
        return re.sub(r"\$\{\{\s*inputs\.([A-Za-z0-9_-]+)\s*\}\}",
                      lambda m: inputs.get("INPUT_" + m.group(1).upper(), ""), str(a))
    return [one(a) for a in (action.get("runs") or {}).get("args") or []]


def main():
    ap = argparse.ArgumentParser()
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--bin")
    g.add_argument("--image")
    ap.add_argument("--workspace", required=True)
    ap.add_argument("--with", dest="inputs", action="append", default=[])
    ap.add_argument("--env", action="append", default=[])
    ap.add_argument("--ref", default="refs/heads/main")
    ap.add_argument("--sha", default="0123456789abcdef0123456789abcdef01234567")
    ap.add_argument("--event-name", default="push")
    ap.add_argument("--event")
    ap.add_argument("--repository", default="acme/gateway")
    ap.add_argument("--action", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                     "..", "action.yml"))
    ap.add_argument("--timeout", type=float, default=300)
    a = ap.parse_args()

    with open(a.action) as f:
        action = yaml.safe_load(f)
    runs = action.get("runs") or {}
    if runs.get("using") != "docker":
        sys.exit("run-action: action.yml runs.using is %r, not docker" % runs.get("using"))
    given = dict(kv.split("=", 1) for kv in a.inputs)
    inputs = input_env(action, given)

    root = tempfile.mkdtemp(prefix="regpush-runner.")
    try:
        host = {k: os.path.join(root, k) for k in ("workflow", "file_commands", "home", "runner_temp")}
        for d in host.values():
            os.makedirs(d)
        guid = str(uuid.uuid4())
        names = {"output": "set_output_" + guid, "summary": "step_summary_" + guid,
                 "env": "set_env_" + guid, "path": "add_path_" + guid, "state": "save_state_" + guid}
        for n in names.values():
            open(os.path.join(host["file_commands"], n), "w").close()
        event = "{}"
        if a.event:
            with open(a.event) as f:
                event = f.read()
        with open(os.path.join(host["workflow"], "event.json"), "w") as f:
            f.write(event)
        ws = os.path.abspath(a.workspace)
        if a.image:
            see = {"workspace": "/github/workspace", "workflow": "/github/workflow",
                   "file_commands": "/github/file_commands", "home": "/github/home",
                   "runner_temp": "/github/runner_temp"}
        else:
            see = dict(host, workspace=ws)
        env = {
            "GITHUB_ACTIONS": "true", "CI": "true",
            "GITHUB_REF": a.ref, "GITHUB_SHA": a.sha, "GITHUB_EVENT_NAME": a.event_name,
            "GITHUB_REPOSITORY": a.repository, "GITHUB_REPOSITORY_OWNER": a.repository.split("/")[0],
            "GITHUB_REF_NAME": a.ref.rsplit("/", 1)[-1],
            "GITHUB_REF_TYPE": "tag" if a.ref.startswith("refs/tags/") else "branch",
            "GITHUB_WORKSPACE": see["workspace"],
            "GITHUB_EVENT_PATH": see["workflow"] + "/event.json",
            "GITHUB_OUTPUT": see["file_commands"] + "/" + names["output"],
            "GITHUB_STEP_SUMMARY": see["file_commands"] + "/" + names["summary"],
            "GITHUB_ENV": see["file_commands"] + "/" + names["env"],
            "GITHUB_PATH": see["file_commands"] + "/" + names["path"],
            "GITHUB_STATE": see["file_commands"] + "/" + names["state"],
            "GITHUB_ACTION": "__run", "GITHUB_ACTOR": "release-bot", "GITHUB_JOB": "release",
            "GITHUB_RUN_ID": "4242", "GITHUB_RUN_NUMBER": "7", "GITHUB_RUN_ATTEMPT": "1",
            "GITHUB_WORKFLOW": "release", "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_API_URL": "https://api.github.com", "GITHUB_GRAPHQL_URL": "https://api.github.com/graphql",
            "RUNNER_OS": "Linux", "RUNNER_ARCH": "X64", "RUNNER_NAME": "emulated",
            "RUNNER_ENVIRONMENT": "self-hosted", "RUNNER_TEMP": see["runner_temp"],
            "RUNNER_TOOL_CACHE": "/opt/hostedtoolcache", "RUNNER_WORKSPACE": "/github",
            "HOME": see["home"],
        }
        env.update(inputs)
        env.update(dict(kv.split("=", 1) for kv in a.env))
        args = eval_args(action, inputs)
        if a.bin:
            cmd = [a.bin] + args
            base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
            for k in ("TMPDIR", "SSL_CERT_FILE"):
                if k in os.environ and k not in env:
                    base[k] = os.environ[k]
            base.update(env)
            p = subprocess.run(cmd, cwd=ws, env=base, capture_output=True, timeout=a.timeout)
        else:
            sock = os.environ.get("REGPUSH_DOCKER_SOCK")
            if not sock:
                sys.exit("run-action: --image needs the Docker Engine (tests/with-docker.sh sets "
                         "REGPUSH_DOCKER_SOCK)")
            cfg = json.loads(subprocess.run(["docker", "image", "inspect", a.image], check=True,
                                            capture_output=True).stdout)[0]
            entry = (cfg.get("Config") or {}).get("Entrypoint") or []
            if not entry:
                sys.exit("run-action: image %s has no ENTRYPOINT" % a.image)
            for k, v in list(env.items()):
                if k.startswith("INPUT_") and (v == ws or v.startswith(ws + "/")):
                    env[k] = "/github/workspace" + v[len(ws):]
            name = "regpush-action-" + guid
            cmd = ["docker", "run", "--rm", "--name", name, "--workdir", "/github/workspace",
                   "--network", "host", "-v", "%s:/var/run/docker.sock" % sock]
            for k in ("workspace", "home", "workflow", "file_commands", "runner_temp"):
                cmd += ["-v", "%s:%s" % (ws if k == "workspace" else host[k], see[k])]
            for k in env:
                cmd += ["-e", k]
            cmd += [a.image] + args
            denv = dict(os.environ)
            denv.update(env)
            try:
                p = subprocess.run(cmd, env=denv, capture_output=True, timeout=a.timeout)
            except subprocess.TimeoutExpired:
                subprocess.run(["docker", "kill", name], capture_output=True)
                raise
        with open(os.path.join(host["file_commands"], names["output"])) as f:
            raw = f.read()
        with open(os.path.join(host["file_commands"], names["summary"])) as f:
            summary = f.read()
        try:
            outputs, error = parse_file_command(raw), None
        except ValueError as e:
            outputs, error = {}, str(e)
        json.dump({"exit": p.returncode, "how": "image" if a.image else "bin",
                   "command": (entry if a.image else [a.bin]) + args, "outputs": outputs, "output_error": error,
                   "output_raw": raw, "summary": summary,
                   "stdout": p.stdout.decode(errors="replace"),
                   "stderr": p.stderr.decode(errors="replace")}, sys.stdout, indent=1)
        sys.stdout.write("\n")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
