#!/usr/bin/env python3
"""Compare what ftmond stored with what the fake API says happened.

    truthcheck.py DB FAKE_ROOT SOURCE [JOB_ID ...]

For every job (default: every job of SOURCE in the database) it fetches
FAKE_ROOT/_fake/truth/ID and compares the set of (step, metric, value)
points in the database's metric_points view with the truth's "points":
no point missing, none extra, none doubled, values equal (NaN is stored as
NULL).  It also checks the bookkeeping derived from the points: each
metric's row in latest_metrics is its highest-step point and jobs.last_step
is the highest step stored.  Prints one line per job ("ok ID N points" or what differs) and
exits 0 only if every job matches.  Standard library only.
"""

import json
import math
import sqlite3
import sys
import urllib.request


def truth_points(root, job):
    with urllib.request.urlopen(f"{root}/_fake/truth/{job}", timeout=10) as r:
        t = json.load(r)
    pts = {}
    for step, metric, value in t["points"]:
        pts[(int(step), metric)] = None if value == "NaN" else float(value)
    return t, pts


def db_points(db, source, job):
    rows = db.execute(
        "SELECT step, metric, value FROM metric_points WHERE source = ? AND job = ?",
        (source, job)).fetchall()
    pts = {}
    dups = 0
    for step, metric, value in rows:
        if (step, metric) in pts:
            dups += 1
        pts[(step, metric)] = value
    return pts, dups


def bookkeeping(db, source, job, got):
    """What latest_metrics / jobs.last_step say that the points do not."""
    problems = []
    newest = {}
    for (step, metric), value in got.items():
        if metric not in newest or step > newest[metric][0]:
            newest[metric] = (step, value)
    rows = db.execute(
        "SELECT m.name, l.step, l.value FROM latest_metrics l"
        " JOIN metric_names m ON m.id = l.metric_id JOIN jobs j ON j.id = l.job_id"
        " WHERE j.source = ? AND j.external_id = ?", (source, job)).fetchall()
    latest = {name: (step, value) for name, step, value in rows}
    for metric in sorted(set(newest) | set(latest)):
        w, g = newest.get(metric), latest.get(metric)
        if w is None or g is None or w[0] != g[0] or not same(w[1], g[1]):
            problems.append(f"latest {metric}: {g} != newest point {w}")
    (last_step,) = db.execute("SELECT last_step FROM jobs WHERE source = ? AND external_id = ?",
                              (source, job)).fetchone()
    want = max((step for step, _ in got), default=None)
    if last_step != want:
        problems.append(f"last_step {last_step} != highest stored step {want}")
    return problems


def same(a, b):
    if a is None or b is None:
        return a is None and b is None
    return a == b or (math.isinf(a) and a == b)


def main():
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    dbpath, root, source = sys.argv[1:4]
    db = sqlite3.connect(dbpath)
    jobs = sys.argv[4:] or [r[0] for r in db.execute(
        "SELECT external_id FROM jobs WHERE source = ? ORDER BY id", (source,))]
    bad = 0
    for job in jobs:
        t, want = truth_points(root, job)
        got, dups = db_points(db, source, job)
        missing = sorted(set(want) - set(got))
        extra = sorted(set(got) - set(want))
        wrong = sorted(k for k in set(want) & set(got) if not same(want[k], got[k]))
        status = db.execute("SELECT status FROM jobs WHERE source = ? AND external_id = ?",
                            (source, job)).fetchone()
        problems = []
        if missing:
            problems.append(f"{len(missing)} missing e.g. {missing[:3]}")
        if extra:
            problems.append(f"{len(extra)} extra e.g. {extra[:3]}")
        if wrong:
            problems.append(f"{len(wrong)} wrong e.g. {[(k, want[k], got[k]) for k in wrong[:3]]}")
        if dups:
            problems.append(f"{dups} duplicates")
        problems += bookkeeping(db, source, job, got)
        if status is None or status[0] != t["status"]:
            problems.append(f"status {status and status[0]} != {t['status']}")
        if problems:
            bad += 1
            print(f"not ok {job}: " + "; ".join(problems))
        else:
            print(f"ok {job} {len(want)} points, status {t['status']}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
