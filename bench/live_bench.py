#!/usr/bin/python3
"""live_bench.py: the reply time of `status` and `jobs` with many jobs, and
the daemon's CPU for `watch` streams with many running jobs.

    python3 bench/live_bench.py --build build [--jobs 10000] [--requests 50]
                                [--running 100] [--window 10] [--rounds 3]

Part 1 (replies): ftmond on a database seeded with --jobs jobs (each with a
status, a step, total steps and two latest metrics, written straight with
sqlite3), no sources.  Each round sends --requests requests of each kind on
one connection and times request to the reply's last byte (not parsed); `ftmonctl jobs --all` is also
timed as a whole process (connect, reply, table).  Prints the median and
95th percentile per round, and the daemon's CPU per request of each kind
(utime+stime from /proc, in clock ticks: about 0.3 ms resolution at 30
requests).

Part 2 (watch): the fake API with --running slow jobs (20 steps/s each),
ftmond polling them every second.  Each round measures the daemon's CPU
(utime+stime, /proc) over --window seconds with no stream, then with one,
then with ten streams (raw socket readers, so no client's CPU is counted),
interleaved; the streaming cost is the difference to the round's no-stream
window.  Lines received per second are counted.
"""
import argparse
import json
import os
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
TICK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def wait_for(cond, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.05)
    sys.exit(f"live_bench: timed out waiting for {what}")


class Daemon:
    def __init__(self, build, tmp, conf_extra=""):
        self.sock = os.path.join(tmp, "ftmon.sock")
        self.conf = os.path.join(tmp, "ftmon.conf")
        self.db = os.path.join(tmp, "ftmon.db")
        with open(self.conf, "w") as f:
            f.write(f"[daemon]\ndatabase = {self.db}\nsocket = {self.sock}\nlog_level = warning\n")
            f.write(conf_extra)
        self.ftmond = os.path.join(build, "ftmond")
        self.proc = None

    def start(self, env=None):
        self.proc = subprocess.Popen([self.ftmond, "-c", self.conf], env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: self.ping(), 15, "ftmond")

    def ping(self):
        try:
            return request(self.sock, "ping") == "pong"
        except OSError:
            return False

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None


def request(path, cmd, args=None, s=None, times=None):
    """The result of cmd; with times (a list), appends the milliseconds from
    sending to the reply's last byte (parsing it is the client's cost)."""
    own = s is None
    if own:
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(30)
        s.connect(path)
    line = json.dumps({"id": 1, "cmd": cmd, "args": args or {}}).encode() + b"\n"
    chunks = []
    t0 = time.perf_counter()
    s.sendall(line)
    while True:
        chunk = s.recv(1 << 20)
        if not chunk:
            raise OSError("closed")
        chunks.append(chunk)
        if chunk.endswith(b"\n"):
            break
    if times is not None:
        times.append((time.perf_counter() - t0) * 1000)
    buf = b"".join(chunks)
    if own:
        s.close()
    reply = json.loads(buf)
    if not reply.get("ok"):
        raise OSError(str(reply))
    return reply["result"]


def seed(db, n):
    con = sqlite3.connect(db)
    now = int(time.time())
    con.execute("INSERT OR IGNORE INTO metric_names (name) VALUES ('train_loss'), ('valid_loss')")
    ids = [r[0] for r in con.execute("SELECT id FROM metric_names ORDER BY name")]
    statuses = ["running", "succeeded", "failed", "queued"]
    con.executemany(
        "INSERT INTO jobs (source, external_id, status, total_steps, last_step, discovered_at,"
        " updated_at, tracked) VALUES (?, ?, ?, 1000, ?, ?, ?, 1)",
        [("openai", f"ftjob-bench{i:06d}", statuses[i % 4], i % 1000, now, now) for i in range(n)])
    con.execute(
        "INSERT INTO latest_metrics (job_id, metric_id, step, value)"
        " SELECT j.id, m.id, j.last_step, 1.0 / (1 + j.last_step) FROM jobs j, metric_names m"
        f" WHERE m.id IN ({ids[0]}, {ids[1]})")
    con.commit()
    con.close()


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


def part_replies(a):
    tmp = tempfile.mkdtemp(prefix="ftmon-bench-")
    d = Daemon(a.build, tmp)
    d.start()
    d.stop()
    seed(d.db, a.jobs)
    d.start()
    ctl = os.path.join(a.build, "ftmonctl")
    print(f"## replies with {a.jobs} jobs ({a.requests} requests per kind and round)")
    print("| round | status median / p95 ms | jobs --all median / p95 ms | jobs (default) median / p95 ms"
          " | `ftmonctl jobs --all` process median ms | daemon CPU ms per status / jobs --all / jobs |")
    print("|---|---|---|---|---|---|")
    for r in range(a.rounds):
        res = {}
        cpu = {}
        s = socket.socket(socket.AF_UNIX)
        s.connect(d.sock)
        for name, cmd, args in (("status", "status", None), ("all", "jobs", {"all": True}),
                                ("default", "jobs", None)):
            t = []
            c0 = cpu_s(d.proc.pid)
            for _ in range(a.requests):
                out = request(d.sock, cmd, args, s, t)
            cpu[name] = (cpu_s(d.proc.pid) - c0) * 1000 / a.requests
            res[name] = t
            if name == "all":
                assert len(out) == a.jobs, len(out)
        s.close()
        procs = []
        for _ in range(max(5, a.requests // 10)):
            t0 = time.perf_counter()
            subprocess.run([ctl, "-s", d.sock, "jobs", "--all"], stdout=subprocess.DEVNULL,
                           check=True, env=dict(os.environ, COLUMNS="120"))
            procs.append((time.perf_counter() - t0) * 1000)
        print(f"| {r + 1} | {statistics.median(res['status']):.1f} / {pct(res['status'], 95):.1f}"
              f" | {statistics.median(res['all']):.1f} / {pct(res['all'], 95):.1f}"
              f" | {statistics.median(res['default']):.1f} / {pct(res['default'], 95):.1f}"
              f" | {statistics.median(procs):.1f}"
              f" | {cpu['status']:.1f} / {cpu['all']:.1f} / {cpu['default']:.1f} |")
    d.stop()
    shutil.rmtree(tmp)


class Reader(threading.Thread):
    """A raw watch stream: counts lines, never parses them."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.s = socket.socket(socket.AF_UNIX)
        self.s.connect(path)
        self.s.sendall(b'{"id":1,"cmd":"watch"}\n')
        self.lines = 0
        self.stop = False

    def run(self):
        while not self.stop:
            try:
                chunk = self.s.recv(1 << 16)
            except OSError:
                return
            if not chunk:
                return
            self.lines += chunk.count(b"\n")

    def close(self):
        self.stop = True
        self.s.close()


def window(pid, secs, nreaders, path):
    readers = [Reader(path) for _ in range(nreaders)]
    for r in readers:
        r.start()
    time.sleep(0.5)  # the streams are open and flowing
    base = [r.lines for r in readers]
    c0, t0 = cpu_s(pid), time.monotonic()
    time.sleep(secs)
    c1, t1 = cpu_s(pid), time.monotonic()
    lines = sum(r.lines - b for r, b in zip(readers, base))
    for r in readers:
        r.close()
    return 100 * (c1 - c0) / (t1 - t0), lines / (t1 - t0)


def part_watch(a):
    tmp = tempfile.mkdtemp(prefix="ftmon-bench-")
    portf = os.path.join(tmp, "port")
    fake = subprocess.Popen([sys.executable, os.path.join(TOP, "tests/helpers/fakeapi.py"),
                             "--port", "0", "--port-file", portf],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: os.path.exists(portf) and os.path.getsize(portf) > 0, 10, "the fake API")
    base = f"http://127.0.0.1:{open(portf).read().strip()}"
    keyf = os.path.join(tmp, "key")
    with open(keyf, "w") as f:
        f.write("sk-test\n")
    os.chmod(keyf, 0o600)
    d = Daemon(a.build, tmp, f"[source openai]\ntype = openai\nbase_url = {base}/v1\n"
                             f"api_key_file = {keyf}\npoll_interval = 1s\n")
    d.start()
    for i in range(a.running):
        body = json.dumps({"id": f"ftjob-w{i:04d}", "total_steps": 10000000, "steps_per_second": 20,
                           "sample_every": 1}).encode()
        subprocess.run(["curl", "-sS", "-X", "POST", "-H", "Content-Type: application/json",
                        "--data", body, f"{base}/_fake/jobs"], stdout=subprocess.DEVNULL, check=True)

    def all_running():
        jobs = request(d.sock, "jobs", {"status": "running"})
        return len(jobs) >= a.running and all(j.get("step") for j in jobs)

    wait_for(all_running, 60, f"{a.running} running jobs with points")
    time.sleep(3)  # past the first pages of history
    pid = d.proc.pid
    print(f"## watch with {a.running} running jobs (20 steps/s each, polled every 1 s),"
          f" {a.window} s windows")
    print("| round | CPU, no stream | CPU, 1 stream (lines/s) | CPU, 10 streams (lines/s)"
          " | streaming cost 1 / 10 streams |")
    print("|---|---|---|---|---|")
    for r in range(a.rounds):
        c0, _ = window(pid, a.window, 0, d.sock)
        c1, l1 = window(pid, a.window, 1, d.sock)
        c10, l10 = window(pid, a.window, 10, d.sock)
        print(f"| {r + 1} | {c0:.1f}% | {c1:.1f}% ({l1:.0f}) | {c10:.1f}% ({l10:.0f})"
              f" | {c1 - c0:+.1f} / {c10 - c0:+.1f} points |")
    d.stop()
    fake.terminate()
    fake.wait(10)
    shutil.rmtree(tmp)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(TOP, "build"))
    ap.add_argument("--jobs", type=int, default=10000)
    ap.add_argument("--requests", type=int, default=50)
    ap.add_argument("--running", type=int, default=100)
    ap.add_argument("--window", type=float, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--part", choices=["replies", "watch", "both"], default="both")
    a = ap.parse_args()
    a.build = os.path.abspath(a.build)
    print(f"load before: {open('/proc/loadavg').read().strip()}")
    if a.part in ("replies", "both"):
        part_replies(a)
    if a.part in ("watch", "both"):
        part_watch(a)
    print(f"load after: {open('/proc/loadavg').read().strip()}")


if __name__ == "__main__":
    main()
