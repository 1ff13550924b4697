#!/usr/bin/env python3
"""Stand in for systemd's notification socket in integration tests.

    notifywait.py SOCKET_PATH [--timeout S] [--log FILE] [--keep]

Binds a Unix datagram socket at SOCKET_PATH ("@name" for an abstract one)
and reads sd_notify(3) messages, so a test can start ftmond with
NOTIFY_SOCKET=SOCKET_PATH and wait for readiness without sleeping.

Every datagram is appended to --log as one line, its inner newlines
replaced by '|' (e.g. "READY=1|STATUS=watching 2 jobs").  The socket is
bound before anything else happens, so a caller can wait for it with
`test -S SOCKET_PATH` before starting the daemon.

Default mode: exit 0 as soon as a datagram carries a line READY=1, exit 1
if none arrives within --timeout seconds (default 30).

--keep: never exit on READY=1; print a line "READY" on stdout each time it
is seen, and keep logging until SIGTERM/SIGINT (exit 0), the parent
process goes away (so a crashed test leaves nothing behind), or --timeout
expires when one was given (exit 0 if READY=1 was seen, else 1).

Exit 2 on a usage error or when the socket cannot be bound.  Standard
library only.
"""

import argparse
import os
import select
import signal
import socket
import stat
import sys
import time

MAX_DATAGRAM = 65536
TICK = 0.25  # seconds between checks of the deadline and the parent


class Stop(Exception):
    """Raised by the signal handler to leave the receive loop."""


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="notifywait.py",
        description="Receive sd_notify messages on a datagram socket.")
    p.add_argument("socket_path", metavar="SOCKET_PATH")
    p.add_argument("--timeout", type=float, default=None, metavar="S",
                   help="seconds to wait for READY=1 (default 30); "
                        "with --keep, total run time (default: unbounded)")
    p.add_argument("--log", metavar="FILE",
                   help="append every datagram to FILE, one per line")
    p.add_argument("--keep", action="store_true",
                   help="do not exit on READY=1; print READY instead")
    args = p.parse_args(argv)
    if args.timeout is None and not args.keep:
        args.timeout = 30.0
    if args.timeout is not None and not args.timeout > 0:
        p.error("--timeout must be a positive number of seconds")
    if args.socket_path in ("", "@"):
        p.error("SOCKET_PATH must not be empty")
    return args


def bind_socket(path):
    """Bind the datagram socket; returns it, or exits 2 with a message."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    if path.startswith("@"):
        address = "\0" + path[1:]
    else:
        address = path
        # A socket left by an earlier, killed run would make bind fail;
        # anything that is not a socket is not ours to remove.
        try:
            if stat.S_ISSOCK(os.lstat(path).st_mode):
                os.unlink(path)
        except FileNotFoundError:
            pass
    try:
        sock.bind(address)
    except OSError as e:
        sys.stderr.write("notifywait.py: cannot bind %s: %s\n" % (path, e))
        sys.exit(2)
    return sock


def log_line(log_path, text):
    """Append one line, opening the file each time so readers see it at once
    and a test may truncate or move it between messages."""
    if log_path is None:
        return
    with open(log_path, "a", encoding="utf-8") as f:
        f.write(text + "\n")


def is_ready(text):
    return "READY=1" in text.split("\n")


def orphaned(parent):
    """True once the process that started us is gone: we were re-parented,
    or the launcher exited before we looked and init is already our
    parent."""
    ppid = os.getppid()
    return ppid != parent or ppid == 1


def stop_cb(signum, frame):
    raise Stop()


def run(args):
    sock = bind_socket(args.socket_path)
    parent = os.getppid()
    start = time.monotonic()
    deadline = None if args.timeout is None else start + args.timeout
    seen_ready = False
    try:
        while True:
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                if not args.keep:
                    sys.stderr.write("notifywait.py: no READY=1 within %gs\n"
                                     % args.timeout)
                return 0 if (args.keep and seen_ready) else 1
            if args.keep and orphaned(parent):
                return 0 if seen_ready else 1
            wait = TICK if deadline is None else min(TICK, deadline - now)
            readable, _, _ = select.select([sock], [], [], wait)
            if not readable:
                continue
            data = sock.recv(MAX_DATAGRAM)
            text = data.decode("utf-8", errors="replace")
            log_line(args.log, text.rstrip("\n").replace("\n", "|"))
            if not is_ready(text):
                continue
            seen_ready = True
            if not args.keep:
                return 0
            try:
                sys.stdout.write("READY\n")
                sys.stdout.flush()
            except OSError:
                pass  # nobody reads stdout any more; keep logging
    except Stop:
        return 0 if args.keep else 1
    finally:
        sock.close()
        if not args.socket_path.startswith("@"):
            try:
                os.unlink(args.socket_path)
            except OSError:
                pass


def main(argv):
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, stop_cb)
    signal.signal(signal.SIGINT, stop_cb)
    return run(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
