#!/usr/bin/env python3
"""The README's inputs and outputs tables against action.yml: every input
and output of action.yml is in its table, and the tables name nothing
action.yml lacks; and docs/internals.md's layout table against src/: every
source file is in it, and it names none that is gone. Exit 1 naming the
differences."""
import glob
import os
import re
import sys

import yaml

root = sys.argv[1] if len(sys.argv) > 1 else "."
action = yaml.safe_load(open(root + "/action.yml"))
readme = open(root + "/README.md").read()


def table_after(heading, col):
    sec = readme.split(heading, 1)[1]
    names = set()
    for line in sec.splitlines():
        if not line.startswith("|"):
            if names:
                break
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) > col:
            names |= set(re.findall(r"`([a-z][a-z0-9-]*)`", cells[col].split("(")[0]))
    return names


bad = []
for what, heading, col in (("inputs", "## Inputs\n", 1), ("outputs", "gets:\n", 0)):
    want = set(action.get(what) or {})
    have = table_after(heading, col)
    for n in sorted(want - have):
        bad.append("README: %s table lacks %s" % (what, n))
    for n in sorted(have - want):
        bad.append("README: %s table names %s, which action.yml lacks" % (what, n))
layout = open(root + "/docs/internals.md").read().split("## Layout\n", 1)[1].split("\n## ", 1)[0]
listed = set(re.findall(r"^\| `(src/[a-z_/]+\.[ch])`", layout, re.M))
present = set(os.path.relpath(f, root) for f in glob.glob(root + "/src/**/*.[ch]", recursive=True))
for n in sorted(present - listed):
    bad.append("docs/internals.md: the layout table lacks %s" % n)
for n in sorted(listed - present):
    bad.append("docs/internals.md: the layout table names %s, which is gone" % n)
for b in bad:
    print(b, file=sys.stderr)
sys.exit(1 if bad else 0)
