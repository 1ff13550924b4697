#!/usr/bin/env python3
"""Open many control-socket clients at once and hold them.

    fdflood.py SOCKET N RELEASE_FILE

Connects N clients as fast as the daemon accepts them, each sending one
ping, and reads one line from each (10 s for all).  Every client ends as
one of: "served" (the ping's reply), "busy" (a busy refusal; its message
is counted too), "closed" (the connection ended without a line) or
"silent" (no line in time).  Served clients stay connected, so the daemon's
descriptors stay spent, until RELEASE_FILE exists (30 s at most).  Prints
one JSON line with the counts as soon as every client is classified, then
keeps connecting one more client at a time until the release, holding any
that is served, so that a descriptor the daemon frees is taken at once.  Standard library only.
"""

import json
import os
import selectors
import socket
import sys
import time

SOCK, N, RELEASE = sys.argv[1], int(sys.argv[2]), sys.argv[3]


def connect(deadline):
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(2)
        try:
            s.connect(SOCK)
            s.setblocking(False)
            return s
        except (BlockingIOError, socket.timeout):
            # The backlog is full for a moment: a wait, not a refusal.
            s.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.005)


def main():
    deadline = time.monotonic() + 10
    sel = selectors.DefaultSelector()
    bufs, result, socks = {}, {}, []
    for i in range(N):
        s = connect(deadline)
        socks.append(s)
        try:
            s.send(b'{"id": %d, "cmd": "ping"}\n' % i)
        except OSError:
            pass  # refused already: its line is waiting to be read
        bufs[s] = b""
        sel.register(s, selectors.EVENT_READ, i)
    pending = N
    while pending and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=0.2):
            s = key.fileobj
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                chunk = b""
            bufs[s] += chunk
            if b"\n" in bufs[s] or not chunk:
                line = bufs[s].split(b"\n")[0]
                result[key.data] = line.decode("utf-8", "replace") if b"\n" in bufs[s] else None
                sel.unregister(s)
                pending -= 1
    counts = {"served": 0, "busy": 0, "closed": 0, "silent": pending, "messages": {}}
    for i, line in result.items():
        if line is None:
            counts["closed"] += 1
            continue
        rep = json.loads(line)
        if rep.get("ok"):
            counts["served"] += 1
        elif rep.get("error", {}).get("code") == "busy":
            counts["busy"] += 1
            msg = rep["error"].get("message", "")
            counts["messages"][msg] = counts["messages"].get(msg, 0) + 1
        else:
            counts["closed"] += 1
    print(json.dumps(counts), flush=True)
    # Keep the pressure on: a descriptor the daemon frees (a connection
    # to the API closing) goes to the next client at once, so the daemon
    # stays out of descriptors until the release.
    end = time.monotonic() + 30
    while not os.path.exists(RELEASE) and time.monotonic() < end:
        if not pressure(socks):
            time.sleep(0.005)
    for s in socks:
        s.close()


def pressure(socks):
    """One more client: kept if served, closed if refused."""
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(2)
        s.connect(SOCK)
        s.sendall(b'{"id": 0, "cmd": "ping"}\n')
        line = s.recv(65536)
    except OSError:
        s.close()
        return False
    if b'"ok":true' in line:
        socks.append(s)
        return True
    s.close()
    return False


main()
