#!/usr/bin/env python3
"""Abuse ftmond's control socket and check it keeps serving everyone.

    sockabuse.py SOCKET MAX_CLIENTS IDLE_MS

Prints TAP lines (no plan: the calling shell test adds it) and exits 0.
Every socket operation has a timeout, so a hang is a failure, not a stall.
Standard library only.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import time

SOCK = sys.argv[1]
MAX_CLIENTS = int(sys.argv[2])
IDLE_MS = int(sys.argv[3])
RESERVED = 8  # CONTROL_RESERVED_CLIENTS
n = 0


def ok(cond, desc, diag=None):
    global n
    n += 1
    print(f"{'' if cond else 'not '}ok {n} - {desc}")
    if not cond and diag is not None:
        print("#   " + str(diag)[:500])
    sys.stdout.flush()


def connect(timeout=5.0):
    deadline = time.time() + timeout
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect(SOCK)
            return s
        except BlockingIOError:
            # The listen backlog is full for a moment: the daemon has not
            # accepted the burst yet.  That is a wait, not a refusal.
            s.close()
            if time.time() > deadline:
                raise
            time.sleep(0.01)


_pending = {}


def readline(s, limit=1 << 26):
    """One line from s, keeping what follows it for the next call."""
    buf = _pending.pop(s.fileno(), b"")
    while b"\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            return buf
        buf += chunk
        if len(buf) > limit:
            return buf
    line, rest = buf.split(b"\n", 1)
    if rest:
        _pending[s.fileno()] = rest
    return line + b"\n"


def request(s, line):
    s.sendall(line if isinstance(line, bytes) else line.encode())
    raw = readline(s)
    try:
        return json.loads(raw)
    except ValueError:
        return {"unparsable": raw[:200]}


def code_of(reply):
    return (reply.get("error") or {}).get("code")


def ping_ok(timeout=2.0):
    try:
        with connect(timeout) as s:
            return request(s, '{"id":1,"cmd":"ping"}\n').get("result") == "pong"
    except OSError as e:
        return False


# 1. malformed input gets error replies on the same connection
with connect() as s:
    for line, code in [("garbage\n", "parse_error"), ("{\"cmd\": \n", "parse_error"),
                       ("[1,2,3]\n", "bad_request"), ("\"ping\"\n", "bad_request"),
                       ('{"id":9,"cmd":"frobnicate"}\n', "unknown_command"),
                       ('{"id":10,"cmd":"jobs","args":[1]}\n', "bad_request"),
                       ('{"id":11,"cmd":"metrics","args":{"job":5}}\n', "invalid_argument"),
                       ('{"id":12,"cmd":"events","args":{"job":"x","limit":"many"}}\n',
                        "invalid_argument"),
                       ('{"id":15,"cmd":"metrics","args":{"job":"x","points":1}}\n',
                        "invalid_argument"),
                       ('{"id":16,"cmd":"metrics","args":{"job":"x","points":-3}}\n',
                        "invalid_argument"),
                       (b'\xff\xfe\x00binary\x01\n', "parse_error"),
                       ('{"id":13,"cmd":"ping","args":{"a":' + "[" * 5000 + "]" * 5000 + "}}\n",
                        "parse_error")]:
        r = request(s, line)
        ok(r.get("ok") is False and code_of(r) == code,
           f"{line[:30]!r} -> {code}", r)
    r = request(s, '{"id":14,"cmd":"ping"}\n')
    ok(r.get("id") == 14 and r.get("result") == "pong", "connection still usable after errors", r)
    # several requests in one write are answered in order
    s.sendall(b'{"id":1,"cmd":"ping"}\n{"id":2,"cmd":"ping"}\r\n{"id":3,"cmd":"ping"}\n')
    got = [json.loads(readline(s))["id"] for _ in range(3)]
    ok(got == [1, 2, 3], "pipelined requests answered in order (CRLF accepted)", got)

# 2. a 3 MiB line: error reply, then the connection closes
with connect(10) as s:
    big = b'{"id":1,"cmd":"ping","pad":"' + b"x" * (3 << 20) + b'"}\n'
    try:
        s.sendall(big)
    except OSError:
        pass  # the daemon may close before we finish writing
    r = readline(s)
    try:
        r = json.loads(r)
    except ValueError:
        r = {"raw": r[:100]}
    ok(code_of(r) == "request_too_large", "3 MiB line -> request_too_large", r)
    try:
        rest = s.recv(100)
    except OSError:
        rest = b""
    ok(rest == b"", "connection closed after the oversized line")
ok(ping_ok(), "daemon still answers after the oversized line")

# 3. 200 clients that never finish a request; others are still served
idlers = []
for i in range(200):
    c = connect()
    c.sendall(b'{"id":1,"cmd":"pi')
    idlers.append(c)
t0 = time.time()
ok(ping_ok(), "a fresh client is served while 200 clients sit on half a request")
ok(time.time() - t0 < 2, "and promptly", time.time() - t0)

# 4. a client that disconnects mid-reply
for i in range(20):
    c = connect()
    c.sendall(b'{"id":1,"cmd":"status"}\n' * 50)
    c.close()
ok(ping_ok(), "daemon survives clients that hang up before their replies")

# 5. a client that never reads its replies only stalls itself
hog = connect()
hog.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
payload = b'{"id":1,"cmd":"status"}\n' * 2000
sent = 0
hog.settimeout(0.5)
try:
    for _ in range(200):
        sent += hog.send(payload)
except OSError:
    pass
t0 = time.time()
ok(ping_ok(), "others are served while a client refuses to read", sent)
ok(time.time() - t0 < 2, "without delay")

# 5b. a client pipelining expensive requests only delays others by a turn
pig = connect(30)
t0 = time.time()
pig.sendall(b'{"id":1,"cmd":"metrics","args":{"job":"big","points":100}}\n' * 100)
time.sleep(0.2)
t1 = time.time()
served = ping_ok(5.0)
lat = time.time() - t1
ok(served and lat < 1.5, "a ping is answered between another client's expensive requests",
   f"{lat:.2f}s")
got = 0
try:
    while got < 100:
        line = readline(pig)
        if not line:
            break
        got += 1
except OSError:
    pass
ok(got == 100, "and the pipelining client still gets all its answers, in order", got)
diag_t = time.time() - t0
print(f"# 100 metrics requests over 200,000 points took {diag_t:.2f}s; ping waited {lat:.2f}s")
pig.close()

# 6. the idle timeout closes silent clients (the 200 idlers included)
time.sleep(IDLE_MS / 1000 + 1.0)
closed = 0
for c in idlers:
    c.settimeout(1)
    try:
        if c.recv(10) == b"":
            closed += 1
    except OSError:
        closed += 1
    c.close()
ok(closed == 200, "idle clients are closed after the idle timeout", closed)
hog.close()

# 7. beyond the client cap: a refusal with a message, not a hang; root (and
#    the daemon's user) still get a few reserved slots.
def refused(sock):
    r = readline(sock)
    try:
        r = json.loads(r)
    except ValueError:
        return False, r
    return code_of(r) == "busy" and "too many clients" in r["error"]["message"], r


held = []
try:
    for i in range(MAX_CLIENTS):
        held.append(connect())
    time.sleep(0.3)
    if os.geteuid() == 0 and shutil.which("setpriv"):
        probe = ("import socket,sys; s=socket.socket(socket.AF_UNIX); s.settimeout(3); "
                 "s.connect(sys.argv[1]); print(s.recv(4096).decode().strip())")
        out = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                              sys.executable, "-c", probe, SOCK],
                             capture_output=True, text=True, timeout=10).stdout
        ok('"busy"' in out and "too many clients" in out,
           f"an ordinary user's client {MAX_CLIENTS + 1} is refused with a message", out)
    reserved = []
    for i in range(RESERVED):
        c = connect()
        reserved.append(c)
        c.sendall(b'{"id":1,"cmd":"ping"}\n')
    answers = [json.loads(readline(c)).get("result") for c in reserved]
    ok(answers == ["pong"] * RESERVED,
       f"root still gets the {RESERVED} reserved slots beyond the cap", answers)
    held += reserved
    extra = connect(3)
    good, r = refused(extra)
    ok(good, f"client {MAX_CLIENTS + RESERVED + 1} is refused with a message, even for root", r)
    extra.close()
finally:
    for c in held:
        c.close()
time.sleep(0.3)
ok(ping_ok(), "served again once clients left")
sys.exit(0)
