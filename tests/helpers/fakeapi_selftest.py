#!/usr/bin/python3
"""Self-test of fakeapi.py: starts it twice on port 0 and checks the contract
documented in its docstring.  Prints TAP-style lines; exits 0 when every
check passed, 1 otherwise.  Standard library only; takes a few seconds
(hard limit 20 s)."""

import base64
import http.client
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
FAKEAPI = os.path.join(HERE, "fakeapi.py")
DEADLINE = time.monotonic() + 20
CSV_OPENAI = "step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy"
CSV_TO_METRIC = {"train_loss": "train_loss",
                 "train_accuracy": "train_mean_token_accuracy",
                 "train_mean_token_accuracy": "train_mean_token_accuracy",
                 "valid_loss": "valid_loss",
                 "valid_mean_token_accuracy": "valid_mean_token_accuracy"}
METRIC_ORDER = ["train_loss", "train_mean_token_accuracy", "valid_loss",
                "valid_mean_token_accuracy", "full_valid_loss",
                "full_valid_mean_token_accuracy"]

n_checks = 0
n_failed = 0


def check(cond, what):
    global n_checks, n_failed
    n_checks += 1
    if not cond:
        n_failed += 1
    print("%s %d - %s" % ("ok" if cond else "not ok", n_checks, what),
          flush=True)
    if time.monotonic() > DEADLINE:
        print("Bail out! self-test took longer than 20 s")
        sys.exit(1)
    return cond


class Server:
    def __init__(self, tmp, scenario, extra=()):
        self.tmp = tmp
        path = os.path.join(tmp, "scenario-%d.json" % id(self))
        with open(path, "w") as f:
            json.dump(scenario, f)
        self.port_file = os.path.join(tmp, "port-%d" % id(self))
        self.log = os.path.join(tmp, "log-%d" % id(self))
        self.proc = subprocess.Popen(
            [sys.executable, FAKEAPI, "--port", "0", "--port-file",
             self.port_file, "--scenario", path, "--log", self.log]
            + list(extra), stdout=subprocess.PIPE, text=True)
        self.banner = self.proc.stdout.readline().strip()
        self.port = int(self.banner.rsplit(":", 1)[1])

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(3)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None


class Client:
    def __init__(self, port, headers):
        self.port = port
        self.headers = headers
        self.conn = None

    def raw(self, method, path, body=None, headers=None):
        """One request; returns (status, header dict, body bytes)."""
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                                   timeout=10)
        hdrs = dict(self.headers if headers is None else headers)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        try:
            self.conn.request(method, path, body=data, headers=hdrs)
            resp = self.conn.getresponse()
            out = resp.read()
        except Exception:
            self.conn.close()
            self.conn = None
            raise
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, out

    def json(self, method, path, body=None, headers=None):
        status, _, out = self.raw(method, path, body, headers)
        return status, json.loads(out)


def walk(c, path, limit):
    """Follow after= cursors; returns the concatenated data and page count."""
    data, after, pages = [], None, 0
    while pages < 1000:
        q = "%s?limit=%d" % (path, limit) + ("&after=" + after if after else "")
        st, page = c.json("GET", q)
        pages += 1
        if st != 200:
            return None, pages
        data.extend(page["data"])
        if not page["has_more"] or not page["data"]:
            break
        after = page["data"][-1]["id"]
    return data, pages


def parse_csv(text):
    lines = text.rstrip("\n").split("\n")
    header = lines[0].split(",")
    rows = [dict(zip(header, ln.split(","))) for ln in lines[1:]]
    return header, rows


def num(cell):
    if cell == "":
        return None
    return int(cell) if cell.isdigit() else float(cell)


def same(a, b):
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    return a == b and type(a) is type(b)


def enc(v):
    return "NaN" if isinstance(v, float) and math.isnan(v) else v


def expected_points(events, csv_rows):
    """The union of metrics events and result file, as ftmon should store it."""
    seen = {}
    for ev in events:
        if ev["type"] == "metrics":
            for k, v in ev["data"].items():
                if k not in ("step", "total_steps"):
                    seen[(ev["data"]["step"], k)] = v
    for row in csv_rows:
        for col, cell in row.items():
            if col != "step" and cell != "":
                seen[(int(row["step"]), CSV_TO_METRIC[col])] = num(cell)
    return [[s, m, enc(seen[(s, m)])] for s in sorted({s for s, _ in seen})
            for m in METRIC_ORDER if (s, m) in seen]


SCENARIO_A = {
    "jobs": [
        {"id": "ftjob-conv", "total_steps": 60, "valid_every": 2},
        {"id": "ftjob-b64", "total_steps": 23, "n_epochs": 2,
         "validation": False, "result_format": "base64",
         "columns_order": "shuffled"},
        {"id": "ftjob-nan", "curve": "nan", "total_steps": 40},
        {"id": "ftjob-fail", "curve": "failing", "total_steps": 50},
        {"id": "ftjob-cancel", "total_steps": 40, "cancel_at_step": 17},
        {"id": "ftjob-slow", "total_steps": 1000, "steps_per_second": 1,
         "queued_s": 3},
        {"id": "ftjob-hold", "status_override": "pending"},
        {"id": "ftjob-late", "start_after_s": 1000},
        {"curve": "overfitting", "total_steps": 100, "sample_every": 10},
    ],
}
BEARER = {"Authorization": "Bearer sk-test"}
NOT_FOUND = {"error": {"message": "Could not find fine tune: ftjob-nope",
                       "type": "invalid_request_error", "param": "fine_tune_id",
                       "code": "fine_tune_not_found"}}
BAD_KEY = {"error": {"message": "Incorrect API key provided",
                     "type": "invalid_request_error", "param": None,
                     "code": "invalid_api_key"}}


def test_basics(srv, c):
    with open(srv.port_file) as f:
        check(f.read() == "%d\n" % srv.port, "port file holds the port")
    check(srv.banner == "listening on 127.0.0.1:%d" % srv.port, "banner")
    st, body = c.json("GET", "/v1/fine_tuning/jobs", headers={})
    check(st == 401 and body == BAD_KEY, "no key: 401 with exact body")
    st, _ = c.json("GET", "/v1/fine_tuning/jobs",
                   headers={"Authorization": "Bearer nope"})
    check(st == 401, "wrong key: 401")
    st, _ = c.json("GET", "/v1/fine_tuning/jobs", headers={"api-key": "sk-test"})
    check(st == 200, "api-key header accepted in auth=any")
    st, hdrs, _ = c.raw("GET", "/v1/fine_tuning/jobs")
    sock = c.conn.sock
    check(st == 200 and hdrs.get("x-request-id", "").startswith("req_"),
          "x-request-id header")
    check("content-length" in hdrs, "content-length header")
    for _ in range(5):
        c.raw("GET", "/v1/fine_tuning/jobs/ftjob-conv")
    check(c.conn.sock is sock, "keep-alive: one connection for many requests")
    st, body = c.json("GET", "/v1/fine_tuning/jobs/ftjob-nope")
    check(st == 404 and body == NOT_FOUND, "unknown job: 404 with exact body")
    st, _ = c.json("GET", "/v1/fine_tuning/jobs/ftjob-late")
    check(st == 404, "job with start_after_s is invisible")
    st, body = c.json("GET", "/v1/nothing/here")
    check(st == 404 and "Invalid URL" in body["error"]["message"], "bad path")


def test_list(c):
    st, full = c.json("GET", "/v1/fine_tuning/jobs?limit=100")
    ids = [j["id"] for j in full["data"]]
    check(st == 200 and len(ids) == 8 and "ftjob-late" not in ids,
          "job list: 8 visible jobs")
    check(ids[-1] == "ftjob-conv" and ids[0].startswith("ftjob-"),
          "job list newest first")
    created = [j["created_at"] for j in full["data"]]
    check(created == sorted(created, reverse=True), "created_at non-increasing")
    paged, pages = walk(c, "/v1/fine_tuning/jobs", 3)
    check([j["id"] for j in paged] == ids and pages == 3,
          "job list pagination with after")
    st, body = c.json("GET", "/v1/fine_tuning/jobs")
    check(len(body["data"]) == 8 and body["has_more"] is False, "default limit")
    for q in ("limit=abc", "limit=0", "limit=-4"):
        st, body = c.json("GET", "/v1/fine_tuning/jobs?" + q)
        check(st == 400 and body["error"]["param"] == "limit", "400 on " + q)
    st, body = c.json("GET", "/v1/fine_tuning/jobs?limit=100000")
    check(st == 200 and len(body["data"]) == 8, "huge limit clamped")
    for q in ("%zz&&=&after", "after=&limit=", "a=%FF%FE&limit=2&limit=1",
              "after=ftjob-unknown"):
        st, body = c.json("GET", "/v1/fine_tuning/jobs?" + q)
        check(st == 200, "odd query string: " + q)
    check(body["data"] == [] and body["has_more"] is False,
          "unknown after: empty page")


def test_conv(c):
    st, job = c.json("GET", "/v1/fine_tuning/jobs/ftjob-conv")
    check(st == 200 and job["status"] == "succeeded", "converging job succeeded")
    check(job["fine_tuned_model"].startswith(
        "ft:gpt-4o-mini-2024-07-18:fake-org:ftmon:"), "fine_tuned_model")
    check(isinstance(job["finished_at"], int) and job["error"] is None
          and isinstance(job["trained_tokens"], int), "finished fields")
    keys = {"object", "id", "model", "created_at", "finished_at",
            "fine_tuned_model", "organization_id", "result_files", "status",
            "validation_file", "training_file", "hyperparameters",
            "trained_tokens", "error", "seed", "estimated_finish", "method",
            "metadata", "integrations"}
    check(keys <= set(job), "job has all reference fields")
    events, pages = walk(c, "/v1/fine_tuning/jobs/ftjob-conv/events", 5)
    _, one = c.json("GET", "/v1/fine_tuning/jobs/ftjob-conv/events?limit=100")
    check(pages > 3 and events == one["data"], "events pagination with after")
    ids = [e["id"] for e in events]
    check(len(set(ids)) == len(ids), "event ids unique")
    check(ids != sorted(ids) and ids != sorted(ids, reverse=True),
          "event ids not sortable")
    ts = [e["created_at"] for e in events]
    check(ts == sorted(ts, reverse=True) and len(set(ts)) < len(ts),
          "events newest first, with created_at ties")
    chron = events[::-1]
    check(chron[0]["message"] == "Created fine-tuning job: ftjob-conv"
          and events[0]["message"] == "The job has successfully completed",
          "first and last messages")
    msg_data = [e["data"] for e in chron if e["type"] == "message"]
    check(all(d == (None if i % 2 == 0 else {}) for i, d in enumerate(msg_data)),
          "message events alternate data null / {}")
    metrics = [e for e in chron if e["type"] == "metrics"]
    steps = [e["data"]["step"] for e in metrics]
    check(steps == list(range(5, 61, 5)), "metrics every 5 steps")
    by_step = {e["data"]["step"]: e["data"] for e in metrics}
    check("valid_loss" not in by_step[5] and "valid_loss" in by_step[10],
          "valid_every=2")
    check("full_valid_loss" in by_step[20] and "full_valid_loss" in by_step[60]
          and "full_valid_loss" not in by_step[30], "full_valid at epoch ends")
    check(by_step[10]["total_steps"] == 60, "total_steps in metrics data")
    check(metrics[0]["message"].startswith("Step 5/60: training loss="),
          "metrics message")
    fid = job["result_files"][0]
    st, hdrs, raw = c.raw("GET", "/v1/files/%s/content" % fid)
    header, rows = parse_csv(raw.decode())
    check(st == 200 and ",".join(header) == CSV_OPENAI, "CSV header")
    check([int(r["step"]) for r in rows] == list(range(1, 61)), "CSV steps 1..60")
    check(rows[0]["valid_loss"] == "" and rows[1]["valid_loss"] != "",
          "CSV empty valid cells")
    ok = True
    for s, d in by_step.items():
        r = rows[s - 1]
        for col, m in CSV_TO_METRIC.items():
            if col in r and (m in d) != (r[col] != ""):
                ok = False
            if col in r and m in d and not same(d[m], num(r[col])):
                ok = False
    check(ok, "CSV and events carry identical numbers")
    st, fobj = c.json("GET", "/v1/files/" + fid)
    check(fobj["purpose"] == "fine-tune-results" and fobj["bytes"] == len(raw),
          "result file object")
    st, truth = c.json("GET", "/_fake/truth/ftjob-conv")
    exp = expected_points(events, rows)
    check(truth["points"] == exp, "truth == union of events and CSV")
    check(truth["visible_points"] == exp and truth["steps_done"] == 60,
          "visible_points after finish")
    ckpts, pages = walk(c, "/v1/fine_tuning/jobs/ftjob-conv/checkpoints", 1)
    check([k["step_number"] for k in ckpts] == [60, 40, 20] and pages == 3,
          "checkpoints newest first, paginated")
    _, page = c.json("GET", "/v1/fine_tuning/jobs/ftjob-conv/checkpoints")
    check(page["first_id"] == ckpts[0]["id"] and page["last_id"] == ckpts[-1]["id"]
          and ckpts[0]["id"].startswith("ftckpt-"), "checkpoint first/last_id")
    m40 = ckpts[1]["metrics"]
    check(m40["step"] == 40 and all(same(m40[k], by_step[40][k])
                                    for k in by_step[40] if k != "total_steps"
                                    and k != "step"), "checkpoint metrics")
    check(ckpts[0]["fine_tuned_model_checkpoint"] ==
          job["fine_tuned_model"] + ":ckpt-step-60", "checkpoint model name")
    st, _ = c.json("GET", "/v1/files/file-nope/content")
    check(st == 404, "unknown file: 404")
    st, _ = c.json("POST", "/v1/fine_tuning/jobs/ftjob-conv/cancel")
    check(st == 400, "cancel of a finished job: 400")


def test_variants(c):
    _, job = c.json("GET", "/v1/fine_tuning/jobs/ftjob-b64")
    st, hdrs, raw = c.raw("GET", "/v1/files/%s/content" % job["result_files"][0])
    text = base64.b64decode(raw, validate=True).decode()
    header, rows = parse_csv(text)
    check(sorted(header) == sorted(CSV_OPENAI.split(","))
          and ",".join(header) != CSV_OPENAI, "base64 CSV, shuffled columns")
    check(len(rows) == 23 and all(r["valid_loss"] == "" for r in rows)
          and job["validation_file"] is None, "no-validation job")
    events, _ = walk(c, "/v1/fine_tuning/jobs/ftjob-b64/events", 100)
    _, truth = c.json("GET", "/_fake/truth/ftjob-b64")
    check(truth["points"] == expected_points(events, rows), "b64 truth")

    st, hdrs, raw = c.raw("GET", "/v1/fine_tuning/jobs/ftjob-nan/events?limit=100")
    check(b'"train_loss": NaN' in raw, "NaN sent as bare JSON token")
    evs = json.loads(raw)["data"]
    nan_steps = sorted(e["data"]["step"] for e in evs if e["type"] == "metrics"
                       and math.isnan(e["data"]["train_loss"]))
    check(nan_steps == [20, 25, 26, 30, 35, 40], "NaN from nan_at_step on")
    _, job = c.json("GET", "/v1/fine_tuning/jobs/ftjob-nan")
    _, _, raw = c.raw("GET", "/v1/files/%s/content" % job["result_files"][0])
    header, rows = parse_csv(raw.decode())
    check(rows[19]["train_loss"] == "NaN" and rows[18]["train_loss"] != "NaN",
          "NaN in CSV")
    _, truth = c.json("GET", "/_fake/truth/ftjob-nan")
    check(truth["points"] == expected_points(evs, rows)
          and [20, "train_loss", "NaN"] in truth["points"], "NaN truth")

    _, job = c.json("GET", "/v1/fine_tuning/jobs/ftjob-fail")
    check(job["status"] == "failed" and job["error"]["code"] == "internal_error"
          and "step 30" in job["error"]["message"]
          and job["fine_tuned_model"] is None, "failing job fails at step 30")
    _, _, raw = c.raw("GET", "/v1/files/%s/content" % job["result_files"][0])
    check(len(parse_csv(raw.decode())[1]) == 30, "failed job result has 30 rows")
    _, job = c.json("GET", "/v1/fine_tuning/jobs/ftjob-cancel")
    _, _, raw = c.raw("GET", "/v1/files/%s/content" % job["result_files"][0])
    check(job["status"] == "cancelled" and len(parse_csv(raw.decode())[1]) == 17,
          "cancel_at_step")

    ones = 0
    for jid in ("ftjob-conv", "ftjob-nan", "ftjob-fail", "ftjob-cancel"):
        _, truth = c.json("GET", "/_fake/truth/" + jid)
        ones += sum(1 for p in truth["points"] if p[1] ==
                    "train_mean_token_accuracy" and type(p[2]) is int)
    check(ones > 0, "some train_mean_token_accuracy are integer 1")


def test_overfit(c):
    _, lst = c.json("GET", "/v1/fine_tuning/jobs?limit=1")
    jid = lst["data"][0]["id"]
    _, truth = c.json("GET", "/_fake/truth/" + jid)
    full = {p[0]: p[2] for p in truth["points"] if p[1] == "full_valid_loss"}
    train = [p[2] for p in truth["points"] if p[1] == "train_loss"]
    check(sorted(full) == [33, 66, 100] and full[33] < full[66] < full[100],
          "overfitting: full valid loss rises")
    check(sum(train[-10:]) < sum(train[40:50]) < sum(train[:10]),
          "overfitting: train loss keeps falling")


def test_control_flow(c):
    _, job = c.json("GET", "/v1/fine_tuning/jobs/ftjob-slow")
    check(job["status"] == "running" and isinstance(job["estimated_finish"], int),
          "slow job running")
    st, job = c.json("POST", "/v1/fine_tuning/jobs/ftjob-slow/pause")
    check(st == 200 and job["status"] == "paused", "pause")
    done = c.json("GET", "/_fake/truth/ftjob-slow")[1]["steps_done"]
    c.json("POST", "/_fake/advance", {"seconds": 5})
    t = c.json("GET", "/_fake/truth/ftjob-slow")[1]
    check(t["steps_done"] == done and t["status"] == "paused", "paused: frozen")
    st, job = c.json("POST", "/v1/fine_tuning/jobs/ftjob-slow/resume")
    check(st == 200 and job["status"] == "queued", "resume shows queued")
    st, _ = c.json("POST", "/v1/fine_tuning/jobs/ftjob-slow/resume")
    check(st == 400, "resume of a running job: 400")
    c.json("POST", "/_fake/advance", {"seconds": 5.5})
    t = c.json("GET", "/_fake/truth/ftjob-slow")[1]
    check(t["status"] == "running" and done + 2 <= t["steps_done"] <= done + 5,
          "running again after the re-queue")
    st, job = c.json("POST", "/v1/fine_tuning/jobs/ftjob-slow/cancel")
    check(st == 200 and job["status"] == "cancelled"
          and job["result_files"], "cancel request")
    evs, _ = walk(c, "/v1/fine_tuning/jobs/ftjob-slow/events", 100)
    msgs = [e["message"] for e in evs[:3]]
    check(msgs[0] == "Fine-tuning job cancelled", "cancel event")
    check(any(e["message"] == "Fine-tuning job paused" for e in evs)
          and any(e["message"] == "Fine-tuning job resumed" for e in evs),
          "pause/resume events")
    _, job = c.json("GET", "/v1/fine_tuning/jobs/ftjob-hold")
    check(job["status"] == "pending", "status_override holds the job")
    c.json("POST", "/v1/fine_tuning/jobs/ftjob-hold/resume")
    c.json("POST", "/_fake/advance", {"seconds": 10})
    _, job = c.json("GET", "/v1/fine_tuning/jobs/ftjob-hold")
    check(job["status"] == "succeeded", "held job runs after resume")

    st, body = c.json("POST", "/_fake/jobs", {"total_steps": 10,
                                              "validating_s": 0, "queued_s": 0,
                                              "steps_per_second": 1000})
    new = body.get("id", "")
    check(st == 200 and new.startswith("ftjob-"), "POST /_fake/jobs")
    time.sleep(0.05)
    _, job = c.json("GET", "/v1/fine_tuning/jobs/" + new)
    check(job["status"] == "succeeded", "added job runs")
    st, body = c.json("POST", "/_fake/jobs", {"total_step": 10})
    check(st == 400 and "total_step" in body["error"], "bad job spec: 400")
    c.json("POST", "/_fake/remove", {"id": new})
    st, _ = c.json("GET", "/v1/fine_tuning/jobs/" + new)
    check(st == 404, "removed job: 404")
    c.json("POST", "/_fake/key", {"key": "sk-new"})
    st, _ = c.json("GET", "/v1/fine_tuning/jobs")
    st2, _ = c.json("GET", "/v1/fine_tuning/jobs",
                    headers={"Authorization": "Bearer sk-new"})
    check(st == 401 and st2 == 200, "POST /_fake/key")
    c.json("POST", "/_fake/key", {"key": "sk-test"})


def test_faults(srv, c):
    ev = "/v1/fine_tuning/jobs/ftjob-conv/events"
    st, body = c.json("POST", "/_fake/fault", [
        {"match": "/events", "times": 2, "kind": "status", "status": 429,
         "headers": {"retry-after-ms": "200"}},
        {"match": "ftjob-conv$", "method": "POST", "kind": "status",
         "status": 503}])
    check(st == 200 and body["pending"] == 2, "add faults")
    st, faults = c.json("GET", "/_fake/faults")
    check([f["remaining"] for f in faults["faults"]] == [2, 1], "list faults")
    r = [c.raw("GET", ev) for _ in range(3)]
    check([x[0] for x in r] == [429, 429, 200], "429 twice then 200")
    check(r[0][1].get("retry-after-ms") == "200"
          and json.loads(r[0][2])["error"]["code"] == "rate_limit_exceeded",
          "429 headers and body")
    st, faults = c.json("GET", "/_fake/faults")
    check(len(faults["faults"]) == 1, "used-up fault dropped")
    st, _, _ = c.raw("GET", "/v1/fine_tuning/jobs/ftjob-conv")
    check(st == 200, "method filter")
    c.json("POST", "/_fake/clear_faults")
    check(c.json("GET", "/_fake/faults")[1]["faults"] == [], "clear_faults")

    c.json("POST", "/_fake/fault", {"match": "ftjob-b64$", "kind": "malformed"})
    st, _, raw = c.raw("GET", "/v1/fine_tuning/jobs/ftjob-b64")
    try:
        json.loads(raw)
        bad = False
    except ValueError:
        bad = True
    check(st == 200 and bad, "malformed: 200 with invalid JSON")

    c.json("POST", "/_fake/fault", {"match": "ftjob-b64$", "status": 200,
                                    "body_b64": base64.b64encode(
                                        b'{"m":"\xff\xfe"}').decode()})
    st, hdrs, raw = c.raw("GET", "/v1/fine_tuning/jobs/ftjob-b64")
    check(st == 200 and raw == b'{"m":"\xff\xfe"}'
          and hdrs.get("content-type") == "application/json",
          "body_b64: the raw bytes as sent")
    st, body = c.json("POST", "/_fake/fault", {"match": "x", "body_b64": "@@"})
    check(st == 400, "body_b64 that is not base64: 400")

    c.json("POST", "/_fake/fault", {"match": "ftjob-b64$", "kind": "truncated"})
    try:
        c.raw("GET", "/v1/fine_tuning/jobs/ftjob-b64")
        got = None
    except http.client.IncompleteRead as e:
        got = e
    check(got is not None and len(got.partial) > 0, "truncated: short body")

    c.json("POST", "/_fake/fault", {"match": "ftjob-b64$", "kind": "slow",
                                    "delay_s": 0.4})
    t = time.monotonic()
    st, _, _ = c.raw("GET", "/v1/fine_tuning/jobs/ftjob-b64")
    check(st == 200 and time.monotonic() - t >= 0.4, "slow")

    c.json("POST", "/_fake/fault", {"match": "ftjob-b64$", "kind": "reset"})
    try:
        c.raw("GET", "/v1/fine_tuning/jobs/ftjob-b64")
        err = None
    except ConnectionError as e:
        err = e
    check(err is not None, "reset: connection error (%r)" % (err,))
    st, _, _ = c.raw("GET", "/v1/fine_tuning/jobs/ftjob-b64")
    check(st == 200, "fine again after the reset")

    c.json("POST", "/_fake/fault", {"match": "ftjob-b64/events",
                                    "kind": "endless_events", "per_page": 7,
                                    "times": 2})
    pages = [json.loads(c.raw("GET", ev.replace("ftjob-conv", "ftjob-b64") + q)[2])
             for q in ("", "?after=ftevent-flood00000000006&limit=3")]
    ids = [e["id"] for p in pages for e in p["data"]]
    check(all(p["has_more"] is True and len(p["data"]) == 7 for p in pages),
          "endless_events: per_page events and has_more, whatever the query")
    check(len(set(ids)) == 14 and all(i.startswith("ftevent-flood") for i in ids),
          "endless_events: every id fresh")
    st, _, raw = c.raw("GET", ev.replace("ftjob-conv", "ftjob-b64"))
    check(st == 200 and "flood" not in raw.decode(), "endless_events: used up")
    st, body = c.json("POST", "/_fake/fault", {"kind": "endless_events",
                                               "per_page": 0})
    check(st == 400, "endless_events: bad per_page: 400")
    c.json("POST", "/_fake/fault", {"match": "ftjob-b64$", "kind": "reset_body"})
    try:
        c.raw("GET", "/v1/fine_tuning/jobs/ftjob-b64")
        err = None
    except (ConnectionError, http.client.IncompleteRead) as e:
        err = e
    check(err is not None, "reset_body: the body is cut (%r)" % (err,))

    c.json("POST", "/_fake/fault", {"match": "ftjob-b64$", "kind": "reflect"})
    st, hdrs, _ = c.raw("GET", "/v1/fine_tuning/jobs/ftjob-b64")
    check(st == 200 and hdrs.get("x-echo-authorization") == "Bearer sk-test"
          and hdrs.get("x-echo-token") == "seen=sk-test; path=/",
          "reflect: the credentials come back in headers (%r)" % (hdrs,))

    st, body = c.json("POST", "/_fake/fault", {"match": "(", "kind": "status"})
    check(st == 400, "bad fault regex: 400")
    st, body = c.json("POST", "/_fake/fault", {"kind": "explode"})
    check(st == 400, "bad fault kind: 400")


def test_stats(c):
    c.json("POST", "/_fake/reset_stats")
    for _ in range(3):
        c.raw("GET", "/v1/fine_tuning/jobs/ftjob-conv/events")
    c.raw("GET", "/v1/fine_tuning/jobs/ftjob-conv")
    _, job = c.json("GET", "/v1/fine_tuning/jobs/ftjob-nan")
    c.raw("GET", "/v1/files/%s/content" % job["result_files"][0])
    c.raw("GET", "/v1/bogus")
    _, st = c.json("GET", "/_fake/stats")
    r = st["requests"]
    check(r.get("GET /v1/fine_tuning/jobs/{id}/events") == 3
          and r.get("GET /v1/fine_tuning/jobs/{id}") == 2
          and r.get("GET /v1/files/{id}/content") == 1
          and r.get("GET (unmatched)") == 1 and st["total"] == 7,
          "stats by route")
    check(st["by_job"]["ftjob-conv"] == {
        "GET /v1/fine_tuning/jobs/{id}/events": 3,
        "GET /v1/fine_tuning/jobs/{id}": 1}
        and st["by_job"]["ftjob-nan"]["GET /v1/files/{id}/content"] == 1,
        "stats by job")
    check(st["by_status"] == {"200": 6, "404": 1}, "stats by status")


def test_azure(tmp):
    sc = {"auth": "api-key", "api_version": "2024-10-21", "prefix": "/openai",
          "key": "ignored",
          "quirks": {"error_empty_object": True, "result_files_null": True,
                     "float_step": True, "organization_null": True},
          "jobs": [{"id": "ftjob-az", "result_header": "azure",
                    "columns_order": ["valid_loss", "step", "train_loss",
                                      "valid_mean_token_accuracy",
                                      "train_mean_token_accuracy"]},
                   {"id": "ftjob-az2", "status_override": "pending"}]}
    srv = Server(tmp, sc, ["--key", "az-key"])
    c = Client(srv.port, {"api-key": "az-key"})
    q = "?api-version=2024-10-21"
    try:
        st, _ = c.json("GET", "/openai/fine_tuning/jobs" + q,
                       headers={"Authorization": "Bearer az-key"})
        check(st == 401, "auth=api-key refuses Bearer")
        st, body = c.json("GET", "/openai/fine_tuning/jobs")
        check(st == 400 and body["error"]["code"] == "missing_api_version",
              "missing api-version: 400")
        st, _ = c.json("GET", "/openai/fine_tuning/jobs?api-version=2020-01-01")
        check(st == 400, "wrong api-version: 400")
        st, _ = c.json("GET", "/v1/fine_tuning/jobs" + q)
        check(st == 404, "prefix honoured")
        _, job = c.json("GET", "/openai/fine_tuning/jobs/ftjob-az2" + q)
        check(job["result_files"] is None and job["error"] == {}
              and job["organization_id"] is None and job["status"] == "pending",
              "Azure quirks before completion")
        c.json("POST", "/_fake/advance", {"seconds": 10})
        _, job = c.json("GET", "/openai/fine_tuning/jobs/ftjob-az" + q)
        check(job["status"] == "succeeded" and len(job["result_files"]) == 1,
              "azure job done")
        st, _, raw = c.raw("GET", "/openai/fine_tuning/jobs/ftjob-az/checkpoints"
                           + q)
        check(b'"step": 60.0' in raw and b'"step_number": 60\n' in raw,
              "float_step quirk")
        st, _, raw = c.raw("GET", "/openai/files/%s/content%s"
                           % (job["result_files"][0], q))
        check(raw.decode().split("\n")[0] == "valid_loss,step,train_loss,"
              "valid_mean_token_accuracy,train_mean_token_accuracy",
              "azure header, explicit column order")
        _, st = c.json("GET", "/_fake/stats")
        check(st["requests"].get("GET /openai/fine_tuning/jobs/{id}/checkpoints")
              == 1, "stats route with prefix")
    finally:
        rc = srv.stop()
    check(rc == 0, "second server exits 0")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        srv = Server(tmp, SCENARIO_A)
        c = Client(srv.port, BEARER)
        try:
            test_basics(srv, c)
            test_list(c)
            c.json("POST", "/_fake/advance", {"seconds": 10})
            test_conv(c)
            test_variants(c)
            test_overfit(c)
            test_control_flow(c)
            test_faults(srv, c)
            test_stats(c)
            with open(srv.log) as f:
                lines = f.read().splitlines()
            check(len(lines) > 50 and any(
                ln.endswith("/v1/fine_tuning/jobs/ftjob-nan 200") for ln in lines)
                and any(ln.endswith(" reset fault=reset") for ln in lines),
                "log file")
        finally:
            t = time.monotonic()
            rc = srv.stop()
        check(rc == 0 and time.monotonic() - t < 1, "SIGTERM: exit 0 promptly")
        test_azure(tmp)
        rc = subprocess.run([sys.executable, FAKEAPI, "--host", "0.0.0.0"],
                            capture_output=True).returncode
        check(rc == 2, "refuses a non-loopback host")
        bad = os.path.join(tmp, "bad.json")
        with open(bad, "w") as f:
            json.dump({"jobs": [{"curve": "wobbly"}]}, f)
        rc = subprocess.run([sys.executable, FAKEAPI, "--scenario", bad],
                            capture_output=True).returncode
        check(rc == 2, "refuses a bad scenario")
    print("1..%d" % n_checks)
    if n_failed:
        print("# %d of %d checks failed" % (n_failed, n_checks))
    return 1 if n_failed else 0


if __name__ == "__main__":
    sys.exit(main())
