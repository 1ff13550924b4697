#!/usr/bin/env python3
"""The control socket's responsiveness while ftmond works: one persistent
connection, a `ping` every INTERVAL ms, until SIGTERM; then one line
"median_ms p99_ms max_ms count" on stdout.  Used by bench/poll_scale.sh
FIRSTPASS=1.

  pinger.py SOCKET [INTERVAL_MS]
"""
import signal
import socket
import statistics
import sys
import time

stop = False


def on_term(signum, frame):
    global stop
    stop = True


def main():
    signal.signal(signal.SIGTERM, on_term)
    path = sys.argv[1]
    interval = (float(sys.argv[2]) if len(sys.argv) > 2 else 10.0) / 1000
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(30)
    s.connect(path)
    f = s.makefile("rb")
    lat, i = [], 0
    while not stop:
        i += 1
        a = time.perf_counter()
        s.sendall(b'{"id": %d, "cmd": "ping"}\n' % i)
        if not f.readline():
            sys.exit("pinger: the daemon closed the connection")
        lat.append((time.perf_counter() - a) * 1000)
        time.sleep(interval)
    lat.sort()
    print("%.2f %.2f %.2f %d" % (statistics.median(lat), lat[int(len(lat) * 0.99)],
                                 lat[-1], len(lat)))


if __name__ == "__main__":
    main()
