#!/usr/bin/env python3
"""jsonl_python.py: the straightforward Python ingester bench/jsonl_ingest.sh
measures ftmond against: read the JSONL file line by line, json.loads each
(Python reads NaN itself), every numeric key but "step" a point, and
sqlite3 executemany into the same tables as ftmond's (and the C ceiling's),
10,000 rows per transaction, WAL, synchronous=NORMAL, foreign keys on.

  jsonl_python.py DB FILE   -> "python ROWS SECONDS ROWS_PER_S"
"""
import json
import math
import sqlite3
import sys
import time

SCHEMA = """
CREATE TABLE jobs (id INTEGER PRIMARY KEY, source TEXT NOT NULL,
  external_id TEXT NOT NULL, status TEXT NOT NULL, UNIQUE (source, external_id));
CREATE TABLE metric_names (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE points (job_id INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  metric_id INTEGER NOT NULL REFERENCES metric_names (id), step INTEGER NOT NULL,
  value REAL, recorded_at INTEGER NOT NULL, PRIMARY KEY (job_id, metric_id, step))
  WITHOUT ROWID;
INSERT INTO jobs VALUES (1, 'lab', 'big', 'running');
"""
BATCH = 10000


def main():
    db = sqlite3.connect(sys.argv[1], isolation_level=None)
    db.executescript("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
                     " PRAGMA foreign_keys = ON;" + SCHEMA)
    names = {}
    rows = []
    total = 0
    now = int(time.time())
    t0 = time.monotonic()
    db.execute("BEGIN")

    def flush():
        db.executemany("INSERT OR IGNORE INTO points VALUES (1, ?, ?, ?, ?)", rows)
        db.execute("COMMIT")
        db.execute("BEGIN")
        rows.clear()

    with open(sys.argv[2]) as f:
        last = -1
        for line in f:
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            step = rec.get("step", last + 1)
            last = step
            for k, v in rec.items():
                if k == "step" or not isinstance(v, (int, float)) or isinstance(v, bool):
                    continue
                mid = names.get(k)
                if mid is None:
                    mid = db.execute("INSERT INTO metric_names (name) VALUES (?)", (k,)).lastrowid
                    names[k] = mid
                rows.append((mid, step, None if math.isnan(v) else v, now))
                if len(rows) >= BATCH:
                    total += len(rows)
                    flush()
    total += len(rows)
    flush()
    db.execute("COMMIT")
    t = time.monotonic() - t0
    print("python %d %.3f %.0f" % (total, t, total / t))
    return 0


if __name__ == "__main__":
    sys.exit(main())
