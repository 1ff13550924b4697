#!/usr/bin/env python3
"""pushpipe.py: push points to ftmond's `log` command over one connection.

Usage: pushpipe.py SOCKET JOB [--points N] [--batch B] [--metrics K]
                   [--start STEP] [--then CMD] [--no-read] [--half-close]

Sends N steps (K metrics each, values a decreasing curve) as requests of B
points each (B = 1: single-point requests), all written at once by a
writer thread while the main thread reads the replies, i.e. pipelined.
--then CMD appends one more request (e.g. "metrics") after the last log,
to check that its answer comes after theirs.  --no-read closes the
connection as soon as everything is written (a client that goes away);
--half-close shuts down the sending side once written, then reads on.
Prints one JSON line: requests, answered, in_order (reply ids are 0, 1,
... in order), errors (the first few), new_points, seconds, points_per_s.
"""
import argparse
import json
import socket
import sys
import threading
import time


def requests(a):
    step = a.start
    rid = 0
    end = a.start + a.points
    while step < end:
        pts = []
        for s in range(step, min(step + a.batch, end)):
            pts.append({"step": s, "metrics": {"m%d" % k: 1.0 / (s + k + 1)
                                               for k in range(a.metrics)}})
        step += len(pts)
        if a.batch == 1:
            args = {"job": a.job, "step": pts[0]["step"], "metrics": pts[0]["metrics"]}
        else:
            args = {"job": a.job, "points": pts}
        yield json.dumps({"id": rid, "cmd": "log", "args": args}).encode() + b"\n"
        rid += 1


def main():
    p = argparse.ArgumentParser()
    p.add_argument("socket")
    p.add_argument("job")
    p.add_argument("--points", type=int, default=1000)
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--metrics", type=int, default=1)
    p.add_argument("--start", type=int, default=0)
    p.add_argument("--then")
    p.add_argument("--no-read", action="store_true")
    p.add_argument("--half-close", action="store_true")
    a = p.parse_args()

    lines = list(requests(a))
    if a.then:
        lines.append(json.dumps({"id": "then", "cmd": a.then,
                                 "args": {"job": a.job}}).encode() + b"\n")
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(60)
    s.connect(a.socket)
    t0 = time.monotonic()
    def write():
        s.sendall(b"".join(lines))
        if a.half_close:
            s.shutdown(socket.SHUT_WR)

    w = threading.Thread(target=write)
    w.start()
    if a.no_read:
        w.join()
        s.close()
        print(json.dumps({"requests": len(lines)}))
        return 0
    f = s.makefile("rb")
    ids, errors, new, then = [], [], 0, None
    for _ in lines:
        line = f.readline()
        if not line:
            break
        r = json.loads(line)
        ids.append(r.get("id"))
        if not r.get("ok"):
            errors.append(r)
        elif r.get("id") == "then":
            then = r.get("result")
        else:
            new += r["result"]["new_points"]
    secs = time.monotonic() - t0
    w.join()
    want = list(range(len(lines) - (1 if a.then else 0))) + (["then"] if a.then else [])
    out = {"requests": len(lines), "answered": len(ids), "in_order": ids == want,
           "errors": errors[:3], "new_points": new, "seconds": round(secs, 4),
           "points_per_s": round(a.points * a.metrics / secs) if secs > 0 else None}
    if a.then:
        out["then"] = then
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
