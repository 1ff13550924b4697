#!/usr/bin/env python3
"""fakectld: a stand-in for ftmond's control socket, for testing ftmonctl.

Listens on a Unix stream socket and answers each request line with a canned
reply chosen by its "cmd".  Every request received is appended, one JSON
line each, to --log so a test can check what the client sent.

Faults, per command (repeatable):
  --error CMD=CODE:MESSAGE   reply ok:false with that code and message
  --result CMD=JSON          reply ok:true with this result instead
  --garbage CMD              reply with a line that is not JSON
  --close CMD                close the connection without replying
  --partial CMD              send half a reply, then close
  --hang CMD                 never reply (the client's timeout must fire)
  --huge CMD                 reply with a line longer than 64 MiB

`watch` replies with an acknowledgement, then the events of WATCH_EVENTS
(one line each), then closes, unless --watch-hold keeps it open.

Usage: fakectld.py --socket PATH [--log FILE] [--ready FILE] [faults...]
--ready names a file created once the socket listens.
"""

import argparse
import json
import os
import socket
import socketserver
import sys
import threading
import time

NOW = int(time.time())

JOB = {
    "name": "openai/ftjob-abc123",
    "source": "openai",
    "id": "ftjob-abc123",
    "status": "running",
    "model": "gpt-4o-mini-2024-07-18",
    "fine_tuned_model": None,
    "step": 120,
    "total_steps": 300,
    "metrics": {"train_loss": 0.4321, "valid_loss": 0.5123,
                "train_mean_token_accuracy": 0.88},
    "created_at": NOW - 3 * 3600,
    "finished_at": None,
    "updated_at": NOW - 12,
}

JOB2 = {
    "name": "lab/rün-2",
    "source": "lab",
    "id": "rün-2",
    "status": "succeeded",
    "model": None,
    "fine_tuned_model": None,
    "step": 50,
    "total_steps": None,
    "metrics": {"train_loss": None},
    "created_at": None,
    "finished_at": NOW - 86400,
    "updated_at": NOW - 2 * 86400,
}

ALERT = {
    "id": 7, "job": "openai/ftjob-abc123", "rule": "divergence",
    "metric": "valid_loss", "state": "firing", "value": 0.5123, "step": 120,
    "message": "valid_loss stopped improving for 3 evaluations\x1b[31m",
    "fired_at": NOW - 300, "resolved_at": None, "acked": False,
}

RESULTS = {
    "ping": "pong",
    "status": {
        "version": "0.1.0", "pid": 4242, "uptime_s": 3 * 3600 + 125,
        "config": "/etc/ftmon/ftmon.conf", "config_error": None,
        "database": {"path": "/var/lib/ftmon/ftmon.db",
                     "size_bytes": 12 * 1024 * 1024 + 300000},
        "sources": [
            {"name": "openai", "type": "openai", "health": "ok",
             "last_poll": NOW - 5, "last_error": None, "jobs": 4,
             "requests": 1200, "errors": 3},
            {"name": "lab", "type": "jsonl", "health": "error",
             "last_poll": None, "last_error": "glob matched nothing",
             "jobs": 0, "requests": 0, "errors": 1},
        ],
        "jobs": {"running": 1, "succeeded": 3},
        "alerts_firing": 1, "deliveries_pending": 0,
    },
    "jobs": [JOB, JOB2],
    "job": dict(JOB, error=None, trained_tokens=123456,
                estimated_finish=NOW + 1200, alerts=[ALERT],
                checkpoints=[
                    {"id": "ftckpt-1", "step": 100,
                     "model": "ft:gpt-4o-mini:org::abc:ckpt-step-100",
                     "created_at": NOW - 600,
                     "metrics": {"full_valid_loss": 0.55, "valid_loss": 0.56}},
                ]),
    "metrics": {
        "train_loss": [[0, 2.5], [10, 1.9], [20, 1.4], [30, None], [40, 0.9],
                       [50, 0.7]],
        "valid_loss": [[0, 2.6], [20, 1.6], [40, 1.2]],
        "train_mean_token_accuracy": [[0, 0.3], [50, 0.8]],
    },
    "events": [
        {"id": "ev-2", "time": NOW - 60, "type": "metrics", "level": "info",
         "message": "Step 120/300: training loss=0.43"},
        {"id": "ev-1", "time": NOW - 3600, "type": "message", "level": "info",
         "message": "Fine-tuning job started"},
    ],
    "alerts": [ALERT],
    "ack": {"id": 7, "acked": True},
    "track": {"job": "openai/ftjob-new"},
    "untrack": {"job": "openai/ftjob-abc123"},
    "poll": {"sources": 2},
    "reload": {"reloaded": True, "config": "/etc/ftmon/ftmon.conf"},
    "log": {"job": "push/run1", "points": 2},
}

WATCH_EVENTS = [
    {"event": "job.status", "time": NOW, "job": {"name": "openai/ftjob-abc123",
                                                  "status": "running"}},
    {"type": "point", "job": "push/run1", "step": 11,
     "metrics": {"train_loss": 1.5, "valid_loss": None}},
    {"event": "alert.fired", "time": NOW, "job": {"name": "push/run1"},
     "alert": {"id": 9, "rule": "nan", "metric": "valid_loss"},
     "message": "valid_loss is NaN"},
]


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--socket", required=True)
    p.add_argument("--log")
    p.add_argument("--ready")
    p.add_argument("--error", action="append", default=[])
    p.add_argument("--result", action="append", default=[])
    for fault in ("garbage", "close", "partial", "hang", "huge"):
        p.add_argument("--" + fault, action="append", default=[])
    p.add_argument("--watch-hold", action="store_true")
    return p.parse_args()


ARGS = parse_args()
LOG_LOCK = threading.Lock()


def cmd_map(items):
    out = {}
    for item in items:
        cmd, _, val = item.partition("=")
        out[cmd] = val
    return out


ERRORS = cmd_map(ARGS.error)
OVERRIDES = {k: json.loads(v) for k, v in cmd_map(ARGS.result).items()}


class Handler(socketserver.StreamRequestHandler):
    def send(self, obj):
        self.wfile.write((json.dumps(obj, allow_nan=False) + "\n").encode())
        self.wfile.flush()

    def handle(self):
        for raw in self.rfile:
            if ARGS.log:
                with LOG_LOCK, open(ARGS.log, "ab") as f:
                    f.write(raw.rstrip(b"\n") + b"\n")
            try:
                req = json.loads(raw)
                cmd = req["cmd"]
                rid = req.get("id")
            except (ValueError, KeyError, TypeError):
                self.send({"id": None, "ok": False,
                           "error": {"code": "parse_error",
                                     "message": "request is not valid JSON"}})
                continue
            if not self.answer(cmd, rid):
                return

    def answer(self, cmd, rid):
        """Reply to one request; False ends the connection."""
        if cmd in ARGS.close:
            return False
        if cmd in ARGS.hang:
            time.sleep(3600)
            return False
        if cmd in ARGS.garbage:
            self.wfile.write(b"this is not json\n")
            return True
        if cmd in ARGS.partial:
            self.wfile.write(b'{"id": 1, "ok": tr')
            return False
        if cmd in ARGS.huge:
            chunk = b" " * (1 << 20)
            self.wfile.write(b'{"id": 1, "ok": true, "result": "')
            try:
                for _ in range(70):
                    self.wfile.write(chunk)
            except OSError:
                pass
            return False
        if cmd in ERRORS:
            code, _, msg = ERRORS[cmd].partition(":")
            self.send({"id": rid, "ok": False,
                       "error": {"code": code, "message": msg}})
            return True
        if cmd == "watch":
            self.send({"id": rid, "ok": True, "result": {"watching": True}})
            for ev in WATCH_EVENTS:
                self.send(ev)
            if ARGS.watch_hold:
                time.sleep(3600)
            return False
        if cmd in OVERRIDES:
            self.send({"id": rid, "ok": True, "result": OVERRIDES[cmd]})
        elif cmd in RESULTS:
            self.send({"id": rid, "ok": True, "result": RESULTS[cmd]})
        else:
            self.send({"id": rid, "ok": False,
                       "error": {"code": "unknown_command",
                                 "message": "unknown command '%s'" % cmd}})
        return True


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def main():
    try:
        os.unlink(ARGS.socket)
    except FileNotFoundError:
        pass
    server = Server(ARGS.socket, Handler)
    if ARGS.ready:
        open(ARGS.ready, "w").close()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        os.unlink(ARGS.socket)
    return 0


if __name__ == "__main__":
    sys.exit(main())
