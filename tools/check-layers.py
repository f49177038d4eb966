#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Check that every module includes only the modules its layer may use.

DESIGN.md: tools -> public API -> engine -> {port, qp}; qp -> {wire, cc,
path}; control -> cc; wire, cc, path and param depend on nothing of scalex.
Every build runs this (a forbidden include fails the build); the test suite
runs it again, and runs --self-test, which plants violations in a scratch
tree and expects each to be caught.

Usage: check-layers.py --root SRC [--stamp FILE] | --self-test
"""
import argparse
import os
import re
import sys
import tempfile

# Module -> the modules it may include directly. Public headers
# (include/scalex) and the pure header-only utilities (dataplane/util: the
# one RNG) are open to every module. Folders not listed here
# (tests/) may include anything.
ALLOWED = {
    "dataplane/util": [],
    "dataplane/param": [],
    "dataplane/wire": [],
    "dataplane/path": ["dataplane/param"],
    "cc": ["dataplane/param"],
    "dataplane/qp": ["dataplane/wire", "cc", "dataplane/path", "dataplane/param"],
    "dataplane/port": ["dataplane/wire"],
    "dataplane/engine": ["dataplane/qp", "dataplane/port", "dataplane/wire", "cc",
                         "dataplane/path", "dataplane/param"],
    "control": ["cc", "dataplane/path", "dataplane/param"],
    # The simulator drives real engines on its own port and clock.
    "sim": ["dataplane/engine", "dataplane/port"],
    "coll": [],
    # NCCL net plugin: the public API only.
    "adapters/nccl": [],
    # Gloo transport: the public API and coll/'s links (coll/link.h).
    "adapters/gloo": ["coll"],
    "tools": ["sim"],
}
# The pure core: byte buffers and numbers in, results out (rule 3).
PURE = {"dataplane/util", "dataplane/param", "dataplane/wire", "dataplane/path", "cc", "dataplane/qp"}
SRC_EXT = (".c", ".h", ".cc", ".cpp", ".hpp")
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def module_of(rel):
    """The longest module prefix of a source-relative path, or None."""
    best = None
    for m in ALLOWED:
        if rel == m or rel.startswith(m + "/"):
            if best is None or len(m) > len(best):
                best = m
    return best


def check(root):
    errors = []
    for mod in sorted(ALLOWED):
        top = os.path.join(root, mod)
        for dirpath, _, files in os.walk(top):
            for f in sorted(files):
                if not f.endswith(SRC_EXT):
                    continue
                path = os.path.join(dirpath, f)
                rel = os.path.relpath(path, root)
                if module_of(rel) != mod:
                    continue  # a nested module is checked on its own
                with open(path, encoding="utf-8", errors="replace") as fh:
                    for n, line in enumerate(fh, 1):
                        m = INCLUDE.match(line)
                        if not m:
                            continue
                        kind, name = m.groups()
                        where = f"{rel}:{n}"
                        if kind == "<":
                            if mod in PURE and name.startswith("rte_"):
                                errors.append(f"{where}: {mod} is pure and may not include DPDK <{name}>")
                            continue
                        target = os.path.normpath(os.path.join(dirpath, name))
                        if not os.path.exists(target):
                            continue  # found through an include path: same module
                        trel = os.path.relpath(target, root)
                        if trel.startswith(("include/scalex/", "dataplane/util/")):
                            continue
                        tmod = module_of(trel)
                        if tmod == mod:
                            continue
                        if tmod is None or tmod not in ALLOWED[mod]:
                            errors.append(f'{where}: {mod} may not include "{name}" '
                                          f"({tmod or trel}); allowed: "
                                          f"{', '.join(ALLOWED[mod]) or 'public headers only'}")
    return errors


def self_test():
    """Plant one violation per rule and expect each to be reported."""
    cases = [
        ("cc/x.c", '#include "../sim/sim.h"\n', "cc may not include"),
        ("dataplane/qp/x.c", '#include "../port/port.h"\n', "dataplane/qp may not include"),
        ("dataplane/wire/x.c", "#include <rte_mbuf.h>\n", "pure and may not include DPDK"),
        ("dataplane/engine/x.c", '#include "../../tools/common/tool.h"\n', "may not include"),
        ("coll/x.c", '#include "../dataplane/engine/context.h"\n', "coll may not include"),
    ]
    ok = True
    for rel, text, want in cases:
        with tempfile.TemporaryDirectory() as root:
            for d in ["sim", "dataplane/port", "dataplane/engine", "tools/common",
                      "include/scalex"]:
                os.makedirs(os.path.join(root, d), exist_ok=True)
            for h in ["sim/sim.h", "dataplane/port/port.h", "dataplane/engine/context.h",
                      "tools/common/tool.h"]:
                open(os.path.join(root, h), "w").close()
            os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
            with open(os.path.join(root, rel), "w") as fh:
                fh.write(text)
            errs = check(root)
            hit = any(want in e for e in errs)
            print(f"{'ok  ' if hit else 'FAIL'} {rel}: {text.strip()} -> "
                  f"{errs[0] if errs else 'not caught'}")
            ok = ok and hit
    # An allowed include is not reported.
    with tempfile.TemporaryDirectory() as root:
        os.makedirs(os.path.join(root, "dataplane/qp"))
        os.makedirs(os.path.join(root, "cc"))
        open(os.path.join(root, "cc/cc.h"), "w").close()
        with open(os.path.join(root, "dataplane/qp/x.c"), "w") as fh:
            fh.write('#include "../../cc/cc.h"\n')
        errs = check(root)
        print(f"{'ok  ' if not errs else 'FAIL'} dataplane/qp -> cc allowed")
        ok = ok and not errs
    return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root")
    ap.add_argument("--stamp")
    ap.add_argument("--self-test", action="store_true")
    a = ap.parse_args()
    if a.self_test:
        return 0 if self_test() else 1
    errors = check(a.root)
    for e in errors:
        print(f"check-layers: {e}", file=sys.stderr)
    if errors:
        return 1
    if a.stamp:
        with open(a.stamp, "w") as fh:
            fh.write("ok\n")
    print(f"check-layers: {len(ALLOWED)} modules, no forbidden include")
    return 0


if __name__ == "__main__":
    sys.exit(main())
