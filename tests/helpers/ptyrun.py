#!/usr/bin/python3
"""Run a command on a pseudo-terminal, as a person's shell would.

ptyrun.py [--cols N] [--rows N] [--timeout S] [--until REGEX] [--interrupt]
          --out FILE -- CMD [ARG...]

The child gets a pty of the given size as stdin, stdout and stderr.  All
it writes is saved to FILE (raw bytes, escapes included).  With --until,
once the output matches REGEX (Python re, over the bytes decoded as UTF-8
with replacement), and with --interrupt a Ctrl-C (\\x03) is typed, which
the line discipline turns into SIGINT for the child.  Exits with the
child's exit status, 124 when it outlives --timeout (it is killed) or
when --until never matched.
"""
import argparse
import fcntl
import os
import pty
import re
import select
import signal
import struct
import sys
import termios
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cols", type=int, default=100)
    ap.add_argument("--rows", type=int, default=30)
    ap.add_argument("--timeout", type=float, default=20)
    ap.add_argument("--until")
    ap.add_argument("--interrupt", action="store_true")
    ap.add_argument("--out", required=True)
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
    pid, fd = pty.fork()
    if pid == 0:
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", a.rows, a.cols, 0, 0))
        os.execvp(cmd[0], cmd)
    out = b""
    deadline = time.monotonic() + a.timeout
    matched = a.until is None
    status = None
    while time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                chunk = b""
            if not chunk:
                break
            out += chunk
        if not matched and re.search(a.until, out.decode("utf-8", "replace")):
            matched = True
            if a.interrupt:
                os.write(fd, b"\x03")
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            status = st
            break
    if status is not None:
        # The child has gone, but what it wrote last may still be in the
        # pty: read to the end (EIO once the slave side is closed).
        while True:
            r, _, _ = select.select([fd], [], [], 0.5)
            if not r:
                break
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    if status is None:
        # Drain what is left, then wait (bounded) for the exit.
        end = time.monotonic() + 5
        while time.monotonic() < end:
            done, st = os.waitpid(pid, os.WNOHANG)
            if done:
                status = st
                break
            r, _, _ = select.select([fd], [], [], 0.1)
            if r:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    chunk = b""
                out += chunk
    if not matched and re.search(a.until, out.decode("utf-8", "replace")):
        matched = True  # it came with the last read, after the exit
    with open(a.out, "wb") as f:
        f.write(out)
    if status is None:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        sys.exit(124)
    if not matched:
        sys.exit(124)
    sys.exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status))


if __name__ == "__main__":
    main()
