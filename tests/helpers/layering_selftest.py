#!/usr/bin/python3
"""Self-test of build-aux/layering.py: copies src/ to a temp dir, breaks the
architecture on purpose in one way per case, and checks that the script
fails naming the file, line and rule (and only that).  Prints TAP; exits 0
when every check passed, 1 otherwise.  Standard library only; each run of
the script is bounded (20 s)."""

import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.environ.get("top_srcdir") or os.path.join(HERE, "..", "..")
SCRIPT = os.path.join(TOP, "build-aux", "layering.py")
SRC = os.path.join(TOP, "src")

n_checks = 0
n_failed = 0


def check(cond, what, diag=""):
    global n_checks, n_failed
    n_checks += 1
    if not cond:
        n_failed += 1
    print("%s %d - %s" % ("ok" if cond else "not ok", n_checks, what))
    if not cond and diag:
        for line in diag.splitlines():
            print("#   " + line)
    sys.stdout.flush()


def fresh(tmp, name):
    """A pristine copy of src/ (no build products) under tmp/name."""
    dst = os.path.join(tmp, name)
    shutil.copytree(SRC, dst, ignore=shutil.ignore_patterns("*.o", ".deps", ".dirstamp",
                                                            "schema.h"))
    return dst


def inject(srcdir, name, text):
    """Insert `text` after the last #include of srcdir/name; its line no."""
    path = os.path.join(srcdir, name)
    with open(path) as f:
        lines = f.readlines()
    last = max(i for i, l in enumerate(lines) if l.lstrip().startswith("#include"))
    lines.insert(last + 1, text + "\n")
    with open(path, "w") as f:
        f.writelines(lines)
    return last + 2


def drop(srcdir, name, text):
    path = os.path.join(srcdir, name)
    with open(path) as f:
        lines = f.readlines()
    kept = [l for l in lines if l.rstrip("\n") != text]
    with open(path, "w") as f:
        f.writelines(kept)
    return len(lines) - len(kept)


def run(srcdir, *opts, script=SCRIPT):
    p = subprocess.run([sys.executable, script] + list(opts) + [srcdir],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       universal_newlines=True, timeout=20)
    return p.returncode, p.stdout


def expect(srcdir, what, wants, script=SCRIPT):
    """The script fails with exactly len(wants) lines, each containing one
    of wants in order."""
    rc, out = run(srcdir, script=script)
    lines = out.splitlines()
    check(rc == 1, "%s: exit 1" % what, "rc %d\n%s" % (rc, out))
    good = len(lines) == len(wants) and all(w in l for w, l in zip(wants, lines))
    check(good, "%s: reports %s" % (what, " | ".join(wants)), out)


def main():
    tmp = tempfile.mkdtemp(prefix="ftmon-layering.")
    try:
        cases(tmp)
    finally:
        shutil.rmtree(tmp)
    print("1..%d" % n_checks)
    return 1 if n_failed else 0


def cases(tmp):
    d = fresh(tmp, "pristine")
    rc, out = run(d)
    check(rc == 0 and out == "", "today's tree passes", out)

    d = fresh(tmp, "util_store")
    n = inject(d, "util.h", '#include "store.h"')
    expect(d, "pure util.h includes store.h",
           ["src/util.h:%d: direction: util includes store (infra)" % n])

    d = fresh(tmp, "xmalloc_store")
    n = inject(d, "xmalloc.h", '#include "store.h"')
    expect(d, "xmalloc.h includes store.h (store.c includes xmalloc.h)",
           ["src/xmalloc.h:%d: direction: xmalloc includes store (infra)" % n,
            "cycles: store -> xmalloc -> store",
            ])
    rc, out = run(d)
    check("src/xmalloc.h:%d includes store.h" % n in out
          and "src/store.c:" in out and "includes xmalloc.h" in out,
          "the cycle names both includes with file:line", out)

    d = fresh(tmp, "buf_util")
    n1 = inject(d, "buf.h", '#include "util.h"')
    n2 = inject(d, "util.h", '#include "buf.h"')
    expect(d, "buf.h <-> util.h (same layer)",
           ["src/buf.h:%d: cycles: buf -> util -> buf (src/buf.h:%d includes util.h; "
            "src/util.h:%d includes buf.h)" % (n1, n1, n2)])

    d = fresh(tmp, "proto_uv")
    n = inject(d, "proto.c", "#include <uv.h>")
    expect(d, "pure proto.c includes uv.h",
           ["src/proto.c:%d: system: proto (pure) may not include <uv.h>" % n])

    d = fresh(tmp, "control_sqlite")
    n = inject(d, "control.c", "#include <sqlite3.h>")
    expect(d, "control.c includes sqlite3.h",
           ["src/control.c:%d: system: control (control) may not include <sqlite3.h>" % n])

    d = fresh(tmp, "unknown")
    with open(os.path.join(d, "frobnicate.c"), "w") as f:
        f.write('#include "frobnicate.h"\n')
    expect(d, "unknown module frobnicate.c",
           ["src/frobnicate.c:1: modules: new module frobnicate: add it to "
            "build-aux/layering.py",
            ])

    d = fresh(tmp, "nosuch")
    n = inject(d, "util.c", '#include "nosuch.h"')
    expect(d, "include of a header not in src/",
           ['src/util.c:%d: modules: "nosuch.h" is no header of src/' % n])

    d = fresh(tmp, "client")
    n = inject(d, "ftmonctl.c", '#include "store.h"')
    with open(os.path.join(d, "cli_top.c"), "w") as f:
        f.write('#include "buf.h"\n#include "http.h"\n')
    expect(d, "client modules include a daemon module",
           ["src/cli_top.c:2: direction: cli_top includes http (infra): client modules",
            "src/ftmonctl.c:%d: direction: ftmonctl includes store (infra): client" % n])

    d = fresh(tmp, "source_concrete")
    n = inject(d, "cmds.c", '#include "source_openai.h"')
    expect(d, "the command table includes a concrete source",
           ["src/cmds.c:%d: direction: cmds includes source_openai" % n])

    # The cycle issue 7 removed: the transport calling the command table.
    d = fresh(tmp, "control_cmds")
    n = inject(d, "control.c", '#include "cmds.h"')
    rc, out = run(d)
    check(rc == 1 and "src/control.c:%d: direction: control includes cmds" % n in out
          and "cycles: cmds -> control -> cmds" in out,
          "control.c including cmds.h is a direction error and a cycle", out)

    # An allow-list entry whose include went away fails the check.
    d = fresh(tmp, "stale")
    script = os.path.join(tmp, "layering_stale.py")
    with open(SCRIPT) as f:
        text = f.read()
    with open(script, "w") as f:
        f.write(text.replace("KNOWN_VIOLATIONS = [\n",
                             'KNOWN_VIOLATIONS = [\n    ("control.c", "cmds.h"),\n', 1))
    expect(d, "a known violation that went away",
           ['allow-list: src/control.c no longer includes "cmds.h"'], script=script)

    d = fresh(tmp, "tap")
    inject(d, "proto.c", "#include <uv.h>")
    rc, out = run(d, "--tap")
    lines = out.splitlines()
    check(rc == 1 and any(l.startswith("not ok 2 - system:") for l in lines)
          and sum(l.startswith("ok ") for l in lines) == 4 and lines[-1] == "1..5",
          "--tap: one line per family, only 'system' not ok", out)


if __name__ == "__main__":
    sys.exit(main())
