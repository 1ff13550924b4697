#!/usr/bin/python3
"""Webhook receiver for ftmon's hook tests.  Python 3 standard library only.

    hookrecv.py --port-file F --log FILE [--refuse N] [--retry-after S]
                [--status CODE] [--delay S]

Every POST is answered and logged as one JSON line in FILE:
  {"t": unix time (float), "key": Idempotency-Key, "status": code sent,
   "ctype": Content-Type, "auth": Authorization header or null,
   "body": the body as text}
The first N attempts of each Idempotency-Key are refused with CODE (503
by default), with "Retry-After: S" when given; later attempts get 200.
A key already accepted is accepted again (a retry after a lost answer)
and logged with "dup": true.  --delay S sleeps S seconds before answering
(a slow receiver).  GET /_stats: {"accepted": {key: n}, "attempts": {key: n}}.
The port is written to F (temp file, then rename).  SIGTERM: exit 0.
"""

import argparse
import http.server
import json
import os
import signal
import sys
import threading
import time

lock = threading.Lock()
attempts = {}
accepted = {}


def make_handler(args, logf):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes: without this, Nagle and
        # the client's delayed ACK add 40 ms to every answer.
        disable_nagle_algorithm = True

        def log_message(self, *a):
            pass

        def reply(self, code, body=b"", extra=()):
            self.send_response(code)
            for k, v in extra:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            with lock:
                body = json.dumps({"accepted": accepted, "attempts": attempts}).encode()
            self.reply(200, body, [("Content-Type", "application/json")])

        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(n).decode("utf-8", "replace")
            key = self.headers.get("Idempotency-Key")
            if args.delay:
                time.sleep(args.delay)
            with lock:
                attempts[key] = attempts.get(key, 0) + 1
                refuse = attempts[key] <= args.refuse
                dup = not refuse and key in accepted
                if not refuse:
                    accepted[key] = accepted.get(key, 0) + 1
                code = args.status if refuse else 200
                rec = {"t": time.time(), "key": key, "status": code,
                       "ctype": self.headers.get("Content-Type"),
                       "auth": self.headers.get("Authorization"),
                       "body": body}
                if dup:
                    rec["dup"] = True
                logf.write(json.dumps(rec) + "\n")
                logf.flush()
            extra = [("Retry-After", args.retry_after)] if refuse and args.retry_after else []
            self.reply(code, b"refused\n" if refuse else b"ok\n", extra)

    return Handler


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port-file", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--refuse", type=int, default=0)
    p.add_argument("--retry-after", default=None)
    p.add_argument("--status", type=int, default=503)
    p.add_argument("--delay", type=float, default=0)
    args = p.parse_args()
    signal.signal(signal.SIGTERM, lambda *a: os._exit(0))
    logf = open(args.log, "a")
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), make_handler(args, logf))
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, args.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
