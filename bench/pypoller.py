#!/usr/bin/env python3
"""The baseline of the poll-scale benchmark: a straightforward Python poller
of OpenAI fine-tuning jobs, written the way the guide and cookbook scripts
are (standard library only: urllib.request, json, sqlite3).

Sequentially, for each job, round-robin until the time is up:
  GET /fine_tuning/jobs/{id}                  -> json.loads
  GET /fine_tuning/jobs/{id}/events?limit=100 -> json.loads
  INSERT OR IGNORE every metric of every metrics event into a points table,
  UPDATE the job row, COMMIT (one transaction per job).

  --tuned   a stronger baseline, for reference: one keep-alive connection
            (http.client) instead of a new connection per request, and the
            events are walked only down to the newest id stored for the job
            (what ftmond does), so an unchanged page inserts nothing.
  --prime   one pass over the jobs (stores every page), then exit.
  --warmup-pass  poll every job once before measuring (for --tuned on
            pages that changed since the database was primed).

The database uses WAL and synchronous=NORMAL, like ftmond, so the Python
side is not charged for fsyncs ftmond does not make either.  CPU time is
measured in-process with getrusage() over the measured window only (after
--warmup seconds), and printed as one JSON object on stdout.
"""
import argparse
import http.client
import json
import resource
import sqlite3
import sys
import time
import urllib.parse
import urllib.request

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY, status TEXT, model TEXT, fine_tuned_model TEXT,
    trained_tokens INTEGER, last_event_id TEXT, updated_at INTEGER);
CREATE TABLE IF NOT EXISTS points (
    job_id TEXT NOT NULL, metric TEXT NOT NULL, step INTEGER NOT NULL,
    value REAL, PRIMARY KEY (job_id, metric, step));
"""
NOT_METRICS = ("step", "total_steps")


class Api:
    """GET a JSON document, either with urllib (a new connection each time,
    like most scripts) or over one persistent http.client connection."""

    def __init__(self, base_url, key, keepalive):
        self.base = base_url.rstrip("/")
        self.headers = {"Authorization": "Bearer " + key, "Accept": "application/json"}
        self.conn = None
        if keepalive:
            u = urllib.parse.urlsplit(self.base)
            self.prefix = u.path
            self.conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=30)

    def get(self, path):
        if self.conn is None:
            req = urllib.request.Request(self.base + path, headers=self.headers)
            with urllib.request.urlopen(req, timeout=30) as resp:
                return json.loads(resp.read())
        self.conn.request("GET", self.prefix + path, headers=self.headers)
        resp = self.conn.getresponse()
        body = resp.read()
        if resp.status != 200:
            raise RuntimeError("HTTP %d on %s" % (resp.status, path))
        return json.loads(body)


def poll_job(api, db, job_id, cursor, tuned):
    """One job poll.  Returns the newest event id seen."""
    job = api.get("/fine_tuning/jobs/" + job_id)
    page = api.get("/fine_tuning/jobs/%s/events?limit=100" % job_id)
    events = page["data"]
    if tuned:
        fresh = []
        for e in events:
            if e["id"] == cursor:
                break
            fresh.append(e)
        events = fresh
    rows = []
    for e in events:
        if e.get("type") != "metrics" or not e.get("data"):
            continue
        d = e["data"]
        step = d.get("step")
        for name, value in d.items():
            if name not in NOT_METRICS and isinstance(value, (int, float)):
                rows.append((job_id, name, step, value))
    if rows:
        db.executemany("INSERT OR IGNORE INTO points VALUES (?, ?, ?, ?)", rows)
    newest = page["data"][0]["id"] if page["data"] else cursor
    db.execute("UPDATE jobs SET status = ?, model = ?, fine_tuned_model = ?, trained_tokens = ?,"
               " last_event_id = ?, updated_at = ? WHERE id = ?",
               (job["status"], job.get("model"), job.get("fine_tuned_model"),
                job.get("trained_tokens"), newest, int(time.time()), job_id))
    db.commit()
    return newest


def proc_status(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--base-url", required=True)
    ap.add_argument("--db", required=True)
    ap.add_argument("--jobs", type=int, required=True, help="poll ftjob-000001..N")
    ap.add_argument("--duration", type=float, default=10.0, help="measured seconds")
    ap.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds first")
    ap.add_argument("--warmup-pass", action="store_true",
                    help="also poll every job once before the measured window")
    ap.add_argument("--tuned", action="store_true")
    ap.add_argument("--prime", action="store_true")
    args = ap.parse_args()

    api = Api(args.base_url, "sk-bench", keepalive=args.tuned)
    db = sqlite3.connect(args.db)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    db.executescript(SCHEMA)
    ids = ["ftjob-%06d" % k for k in range(1, args.jobs + 1)]
    db.executemany("INSERT OR IGNORE INTO jobs (id, status) VALUES (?, 'running')",
                   [(i,) for i in ids])
    db.commit()
    cursors = dict(db.execute("SELECT id, last_event_id FROM jobs"))

    if args.prime:
        t0 = time.monotonic()
        for i in ids:
            cursors[i] = poll_job(api, db, i, cursors.get(i), args.tuned)
        print(json.dumps({"primed": len(ids), "seconds": round(time.monotonic() - t0, 3)}))
        return 0

    k = 0
    end_warmup = time.monotonic() + args.warmup
    while time.monotonic() < end_warmup or (args.warmup_pass and k < len(ids)):
        i = ids[k % len(ids)]
        cursors[i] = poll_job(api, db, i, cursors.get(i), args.tuned)
        k += 1
    polls = 0
    c0, t0 = cpu_seconds(), time.monotonic()
    end = t0 + args.duration
    while time.monotonic() < end:
        i = ids[k % len(ids)]
        cursors[i] = poll_job(api, db, i, cursors.get(i), args.tuned)
        k += 1
        polls += 1
    c1, t1 = cpu_seconds(), time.monotonic()
    print(json.dumps({
        "mode": "tuned" if args.tuned else "naive",
        "jobs": args.jobs, "polls": polls, "requests": 2 * polls,
        "wall_s": round(t1 - t0, 4), "cpu_s": round(c1 - c0, 4),
        "req_per_s": round(2 * polls / (t1 - t0), 1),
        "cpu_s_per_1000_polls": round((c1 - c0) / polls * 1000, 5) if polls else None,
        "vmhwm_kb": proc_status("VmHWM"), "vmrss_kb": proc_status("VmRSS"),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
