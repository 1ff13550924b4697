#!/usr/bin/python3
"""layering.py: ftmon's architecture, written as a check.

Reads every `#include` of src/*.c and src/*.h and fails (exit 1, one line
per violation, `file:line: rule: what`) when

  - a src/ file belongs to no module listed in MODULES below (modules),
  - a quoted include names a header that is not in src/ (modules),
  - a module includes a system header its entry does not allow (system),
  - a module includes a module it may not depend on (direction),
  - the module graph has a cycle (cycles),
  - an entry of KNOWN_VIOLATIONS no longer matches any include (allow-list).

Usage: layering.py [--tap] [SRCDIR]      (SRCDIR defaults to ../src)
With --tap it prints one TAP `ok`/`not ok` per rule family and the
violations as `#` diagnostics.  Python 3 standard library only.

Changing the architecture on purpose means editing the tables below in
the same commit as the picture in HACKING.md.
"""

import os
import re
import sys

# ---------------------------------------------------------------- the tables

# Layers, lowest first.  A module may include modules of its own layer or
# below unless its entry narrows that with `deps`.  `client` is not in the
# order: client modules may include pure and client modules only.
LAYERS = ["pure", "infra", "ingest", "sources", "control", "top"]
CLIENT = "client"

# System header families.
LIBC = frozenset("""
    assert.h complex.h ctype.h errno.h fenv.h float.h inttypes.h iso646.h
    limits.h locale.h math.h setjmp.h signal.h stdalign.h stdarg.h
    stdatomic.h stdbool.h stddef.h stdint.h stdio.h stdlib.h stdnoreturn.h
    string.h tgmath.h threads.h time.h uchar.h wchar.h wctype.h
    aio.h arpa/inet.h dirent.h dlfcn.h fcntl.h fnmatch.h ftw.h glob.h grp.h
    iconv.h langinfo.h libgen.h net/if.h netdb.h netinet/in.h netinet/tcp.h
    poll.h pthread.h pwd.h regex.h sched.h search.h semaphore.h spawn.h
    strings.h sys/ioctl.h sys/mman.h sys/resource.h sys/select.h
    sys/socket.h sys/stat.h sys/statvfs.h sys/time.h sys/times.h
    sys/types.h sys/uio.h sys/un.h sys/utsname.h sys/wait.h syslog.h
    termios.h unistd.h utime.h
    endian.h err.h getopt.h sys/epoll.h sys/eventfd.h sys/random.h
    sys/signalfd.h sys/timerfd.h sys/queue.h
""".split())
CJSON = frozenset(["cjson/cJSON.h"])
UV = frozenset(["uv.h"])
CURL = frozenset(["curl/curl.h"])
SQLITE = frozenset(["sqlite3.h"])
SYSTEMD = frozenset(["systemd/sd-daemon.h"])
INIH = frozenset(["ini.h"])
PURE_SYS = LIBC | CJSON
ANY_SYS = None  # no restriction

# Concrete sources: only the registry (`sources`) may name them.
CONCRETE_SOURCES = ["source_openai", "source_jsonl", "source_push"]


def mod(layer, sys_headers=PURE_SYS, deps=None):
    """deps: None = own layer or below; else module names and/or layer
    names ("pure") this module may include (its own files always)."""
    return {"layer": layer, "sys": sys_headers, "deps": deps}


PURE_ONLY = ["pure"]

MODULES = {
    # pure: libc and cJSON, never an event loop, a socket library or a db.
    "log": mod("pure"),
    "xmalloc": mod("pure"),
    "util": mod("pure"),
    "buf": mod("pure"),
    "proto": mod("pure"),
    "conf": mod("pure", PURE_SYS | INIH),  # libinih parses, nothing more
    "shellwords": mod("pure"),
    "downsample": mod("pure"),
    "openai_parse": mod("pure"),
    "openai_walk": mod("pure"),
    "render": mod("pure"),
    "axis": mod("pure"),
    "plot": mod("pure"),
    "report": mod("pure"),
    "jsonlax": mod("pure"),
    "jsonw": mod("pure"),
    "utf8": mod("pure"),
    "retry": mod("pure"),
    "keyfile": mod("pure"),
    "csv": mod("pure"),
    "base64": mod("pure"),
    "workq": mod("pure"),
    "clock": mod("pure"),
    "jobname": mod("pure"),
    "logreq": mod("pure"),
    "rule": mod("pure"),
    "metricline": mod("pure"),
    "payload": mod("pure"),
    # infra: one foreign library each, built on pure modules only.
    "store": mod("infra", PURE_SYS | SQLITE, PURE_ONLY),
    "http": mod("infra", PURE_SYS | CURL | UV, PURE_ONLY),
    "sdnotify": mod("infra", PURE_SYS | SYSTEMD, PURE_ONLY),
    # hookexec: one exec hook run with uv_spawn (no shell).
    "hookexec": mod("infra", PURE_SYS | UV, PURE_ONLY),
    # walckpt: the store's WAL checkpoints in libuv's thread pool.
    "walckpt": mod("infra", PURE_SYS | SQLITE | UV, ["store", "pure"]),
    # ingest: what sources write, through the store.
    "ingest": mod("ingest", PURE_SYS, ["store", "pure"]),
    "rules": mod("ingest", PURE_SYS | UV, ["ingest", "store", "pure"]),
    # sources: the interface knows no concrete source; the registry does.
    "source": mod("sources", PURE_SYS, ["pure", "clock"]),
    "source_openai": mod("sources", PURE_SYS | UV, ["source", "ingest", "http", "store", "pure"]),
    "source_push": mod("sources", PURE_SYS | UV, ["source", "ingest", "store", "pure"]),
    "source_jsonl": mod("sources", PURE_SYS | UV, ["source", "ingest", "store", "pure"]),
    "sources": mod("sources", PURE_SYS | UV, ["source", "pure"] + CONCRETE_SOURCES),
    # notifier: deliveries written in ingest's transaction, sent by exec
    # (hookexec) or webhook (http); a peer of the sources.
    "notifier": mod("sources", PURE_SYS | UV, ["ingest", "store", "http", "hookexec", "pure"]),
    # control: the transport knows no command; the table knows no daemon.
    "control": mod("control", PURE_SYS | UV, PURE_ONLY),
    # admin: who may mutate, from a peer's credentials (control.h).
    "admin": mod("control", PURE_SYS | UV, ["control", "pure"]),
    "cmds": mod("control", PURE_SYS | UV, ["control", "source", "store", "admin", "watch", "pure"]),
    # watch: the socket's watch streams, a commit observer on ingest.
    "watch": mod("control", PURE_SYS, ["control", "ingest", "store", "clock", "pure"]),
    # top: the daemon wires everything; main() only sees the daemon.
    "daemon": mod("top", ANY_SYS),
    "ftmond": mod("top", PURE_SYS | UV | CURL, ["daemon", "pure"]),
    # client: ftmonctl and every cli_* module, pure modules only.
    "ftmonctl": mod(CLIENT),
    "cli": mod(CLIENT),
}
CLIENT_PREFIX = "cli_"  # any cli_* stem is a client module

# Files whose module is not their stem.  Generated headers (built in the
# build tree, so absent from src/) are listed here too.
FILES = {
    "cmds_internal.h": "cmds",
    "cmds_track.c": "cmds",
    "cmds_log.c": "cmds",
    "cmds_live.c": "cmds",
    "store_open.c": "store",
    "store_query.c": "store",
    "cli_views_status.c": "cli_views",
    "cli_views_internal.h": "cli_views",
    "store_jobs.c": "store",
    "store_alerts.c": "store",
    "store_files.c": "store",
    "store_deliveries.c": "store",
    "store_internal.h": "store",
    "conf_ini.c": "conf",
    "conf_value.c": "conf",
    "conf_keys.c": "conf",
    "conf_internal.h": "conf",
    "control_listen.c": "control",
    "control_internal.h": "control",
    "http_loop.c": "http",
    "http_internal.h": "http",
    "openai_parse_result.c": "openai_parse",
    "openai_parse_internal.h": "openai_parse",
    "source_openai_cycle.c": "source_openai",
    "source_openai_discover.c": "source_openai",
    "source_openai_events.c": "source_openai",
    "source_openai_act.c": "source_openai",
    "source_openai_internal.h": "source_openai",
    "source_jsonl_file.c": "source_jsonl",
    "source_jsonl_internal.h": "source_jsonl",
    "schema.h": "store",  # generated from sql/*.sql
}
GENERATED = {"schema.h"}
EVERYWHERE = {"config.h"}  # configure's output: any module, first

# Known violations: (file, included header).  Each is exempt from the
# direction rule and left out of the cycle graph.  An entry that matches
# no include is itself an error, so the list only ever shrinks.
KNOWN_VIOLATIONS = [
    # none: issue 7 removed the last ones
]

# ---------------------------------------------------------------- the check

INCLUDE_RE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
FAMILIES = [
    ("modules", "every src/ file and quoted include belongs to a known module"),
    ("system", "system headers only where the table allows them"),
    ("direction", "includes follow the layer order and each module's deps"),
    ("cycles", "the module graph has no cycle"),
    ("allow-list", "every known violation still exists"),
]


def module_of(name):
    """Module of a src/ file name, or None when the table lacks it."""
    if name in FILES:
        return FILES[name]
    stem = os.path.splitext(name)[0]
    if stem in MODULES or stem.startswith(CLIENT_PREFIX):
        return stem
    return None


def layer_of(module):
    if module.startswith(CLIENT_PREFIX):
        return CLIENT
    return MODULES[module]["layer"]


def entry_of(module):
    if module.startswith(CLIENT_PREFIX) and module not in MODULES:
        return mod(CLIENT)
    return MODULES[module]


def may_include(src, dst):
    """None when src may include dst, else the rule it breaks."""
    if src == dst:
        return None
    e, dl = entry_of(src), layer_of(dst)
    if e["layer"] == CLIENT:
        if dl in ("pure", CLIENT):
            return None
        return "client modules include pure and client modules only"
    if e["deps"] is not None:
        if dst in e["deps"] or dl in e["deps"]:
            return None
        return "%s may include only %s" % (src, ", ".join(e["deps"]))
    if dl != CLIENT and LAYERS.index(dl) <= LAYERS.index(e["layer"]):
        return None
    return "%s (%s) may include only its own layer or below" % (src, e["layer"])


def scan(srcdir):
    """[(file, line, kind, header)] for every include of src/*.[ch]."""
    out = []
    for name in sorted(os.listdir(srcdir)):
        if not name.endswith((".c", ".h")):
            continue
        with open(os.path.join(srcdir, name), encoding="utf-8", errors="replace") as f:
            for n, text in enumerate(f, 1):
                m = INCLUDE_RE.match(text)
                if m:
                    out.append((name, n, m.group(1), m.group(2)))
    return out


def find_cycles(edges):
    """edges: {module: {dep: (file, line, header)}}.  One cycle path per
    strongly connected component: its shortest, smallest module first."""
    index, low, stack, on, sccs = {}, {}, [], set(), []

    def strong(v):  # Tarjan; the graph is a few dozen nodes
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, {})):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on.discard(w)
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1:
                sccs.append(comp)

    for v in sorted(edges):
        if v not in index:
            strong(v)
    out = []
    for comp in sorted(sccs, key=min):
        paths = [shortest_cycle(v, comp, edges) for v in sorted(comp)]
        out.append(min(paths, key=len))  # the first of the shortest
    return out


def shortest_cycle(start, comp, edges):
    """Breadth-first from start back to start, inside comp."""
    prev, queue = {}, [start]
    while queue:
        v = queue.pop(0)
        for w in sorted(edges.get(v, {})):
            if w not in comp:
                continue
            if w == start:
                path = [v]
                while path[-1] != start:
                    path.append(prev[path[-1]])
                return list(reversed(path)) + [start]
            if w not in prev:
                prev[w] = v
                queue.append(w)
    raise AssertionError("component without a cycle")


def check(srcdir):
    """{family: [violation line]}."""
    errs = {f: [] for f, _ in FAMILIES}
    names = set(n for n in os.listdir(srcdir) if n.endswith((".c", ".h")))
    for name in sorted(names):
        if module_of(name) is None:
            stem = os.path.splitext(name)[0]
            errs["modules"].append("src/%s:1: modules: new module %s: add it to "
                                   "build-aux/layering.py" % (name, stem))
    allowed = set(KNOWN_VIOLATIONS)
    used = set()
    edges = {}
    for name, line, kind, hdr in scan(srcdir):
        src = module_of(name)
        if src is None:
            continue
        where = "src/%s:%d" % (name, line)
        if kind == "<":
            ok_sys = entry_of(src)["sys"]
            if ok_sys is not None and hdr not in ok_sys:
                errs["system"].append("%s: system: %s (%s) may not include <%s>"
                                      % (where, src, layer_of(src), hdr))
            continue
        if hdr in EVERYWHERE:
            continue
        dst = module_of(hdr)
        if dst is None or (hdr not in names and hdr not in GENERATED):
            errs["modules"].append('%s: modules: "%s" is no header of src/ in the table'
                                   % (where, hdr))
            continue
        if (name, hdr) in allowed:
            used.add((name, hdr))
            continue
        why = may_include(src, dst)
        if why:
            errs["direction"].append("%s: direction: %s includes %s (%s): %s"
                                     % (where, src, dst, layer_of(dst), why))
        if src != dst:
            edges.setdefault(src, {}).setdefault(dst, (name, line, hdr))
    for cyc in find_cycles(edges):
        links = ["src/%s:%d includes %s" % edges[a][b] for a, b in zip(cyc, cyc[1:])]
        first = edges[cyc[0]][cyc[1]]
        errs["cycles"].append("src/%s:%d: cycles: %s (%s)"
                              % (first[0], first[1], " -> ".join(cyc), "; ".join(links)))
    for name, hdr in KNOWN_VIOLATIONS:
        if (name, hdr) not in used:
            errs["allow-list"].append('build-aux/layering.py:1: allow-list: src/%s no longer '
                                      'includes "%s": remove it from KNOWN_VIOLATIONS'
                                      % (name, hdr))
    return errs


def main(argv):
    tap = "--tap" in argv
    args = [a for a in argv if a != "--tap"]
    here = os.path.dirname(os.path.abspath(__file__))
    srcdir = args[0] if args else os.path.join(here, "..", "src")
    if not os.path.isdir(srcdir):
        print("layering.py: %s: not a directory" % srcdir, file=sys.stderr)
        return 2
    errs = check(srcdir)
    failed = any(errs.values())
    if tap:
        for i, (fam, what) in enumerate(FAMILIES, 1):
            print("%sok %d - %s: %s" % ("not " if errs[fam] else "", i, fam, what))
            for e in errs[fam]:
                print("# " + e)
        print("1..%d" % len(FAMILIES))
    else:
        for fam, _ in FAMILIES:
            for e in errs[fam]:
                print(e)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
