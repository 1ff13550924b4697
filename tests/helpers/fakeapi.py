#!/usr/bin/python3
"""Fake OpenAI fine-tuning API for ftmon's integration tests, demo and benchmark.

Python 3.11 standard library only.  Everything below is the contract; tests
may rely on it without reading the code.

COMMAND LINE
    fakeapi.py [--host 127.0.0.1] [--port 0] [--port-file F]
               [--scenario FILE.json | --demo] [--key KEY]
               [--time-scale X] [--log FILE]

  --host        only 127.0.0.1 is accepted (anything else: exit 2).
  --port        TCP port, default 0 = pick a free one.
  --port-file   the chosen port is written there (decimal + newline,
                written to a temp file then renamed, so a reader never sees
                a partial file).
  --scenario    JSON scenario (format below).  Without --scenario/--demo
                the server starts with no jobs (add them: POST /_fake/jobs).
  --demo        built-in scenario: three jobs "converging" (succeeds),
                "overfitting" (succeeds, valid_loss rises after ~40%) and
                "failing" (fails at step 180/300); all done after ~32 s
                at --time-scale 1.
  --key         accepted API key; overrides the scenario's "key"
                (default "sk-test").
  --time-scale  fake clock speed: fake seconds = real seconds * X (default 1).
  --log         append one line per request (API and /_fake/): "ISO-TIME
                METHOD PATH?QUERY STATUS[ fault=KIND]", STATUS "reset" for a
                reset fault (nothing is logged to stdout).
  On start it prints exactly one line "listening on 127.0.0.1:PORT" to
  stdout.  SIGTERM/SIGINT: exit 0 at once.  Bad arguments or scenario: exit 2.
  HTTP/1.1 with keep-alive; every response has Content-Length and an
  x-request-id header ("req_" + 32 hex).

SCENARIO FILE (every key optional)
  {"auth": "any",          # "any": Authorization: Bearer KEY or api-key: KEY
                           # "bearer": only Authorization: Bearer KEY
                           # "api-key": only the Azure "api-key: KEY" header
   "api_version": null,    # e.g. "2024-10-21": every API request must carry
                           # ?api-version=<exactly that>, else 400
                           # (code "missing_api_version"/"invalid_api_version")
   "key": "sk-test",
   "prefix": "/v1",        # API path prefix ("/openai", "/openai/v1", "")
   "quirks": {"error_empty_object": false,  # unfinished/healthy jobs send
                                            # "error": {} instead of null
              "result_files_null": false,   # "result_files": null until
                                            # finished (Azure)
              "float_step": false,          # checkpoint metrics.step is a
                                            # float (100.0); step_number stays int
              "organization_null": false},  # "organization_id": null (Azure)
   "jobs": [JOB_SPEC, ...]}

JOB_SPEC (every key optional; unknown keys are an error)
  id                 null -> "ftjob-" + 24 base62 chars, deterministic from the
                     job's position (0, 1, 2... in the order jobs are added)
                     and model, so the same scenario gives the same ids.
  model              "gpt-4o-mini-2024-07-18"
  suffix             "ftmon"   (fine_tuned_model = "ft:MODEL:fake-org:SUFFIX:X8")
  total_steps        60
  steps_per_second   20        (fake seconds)
  validating_s       0.2       time in validating_files
  queued_s           0.2       time in queued (also the re-queue after resume)
  start_after_s      0         the job does not exist (404, not listed) until
                               this many fake seconds after it was added
                               (scenario jobs: after server start)
  curve              "converging" | "overfitting" | "failing" | "nan" | "spike"
  fail_at_step       null; "failing" defaults it to int(0.6*total_steps).
                     The job fails right after step N ran (0 = fails when
                     running would start, no steps, no result file).
  nan_at_step        null; "nan" defaults to int(0.5*total_steps): train_loss
                     is NaN from that step on.
  spike_at_step      null; "spike" defaults to total_steps//2: train_loss
                     jumps to 6*x+2 at that single step.
  cancel_at_step     null; the job is cancelled right after step N ran.
  sample_every       5         metrics events only at steps k % N == 0 and at
                               epoch ends; the result file has every step.
  validation         true      false: no validation_file, no valid_* metrics
  valid_every        1         valid_loss/valid_mean_token_accuracy only at
                               steps k % N == 0 (other CSV cells empty)
  n_epochs           3         epoch e ends at step e*total_steps//n_epochs;
                               a checkpoint is made at each epoch end and
                               full_valid_* metrics exist there (if validation)
  batch_size         1
  learning_rate_multiplier 1.8
  result_format      "plain" | "base64" (file content = base64 of the CSV)
  result_header      "openai": step,train_loss,train_accuracy,valid_loss,
                               valid_mean_token_accuracy
                     "azure": same with train_mean_token_accuracy
  columns_order      null | "shuffled" (deterministic permutation, never the
                     identity) | list of the 5 header names in the wanted order
  status_override    null | any string, e.g. "paused" or "pending": the job is
                     held (no progress) showing that status until
                     POST .../resume releases it.
  error_code         "internal_error"  } used in "error" when the job fails;
  error_message      "The job failed due to an internal error at step {step}."
  metadata           null | object (copied into the job JSON)

TIMELINE (fake seconds from the job's start t0 = added + start_after_s;
paused time does not count)
  [0, V) validating_files, [V, V+Q) queued, then running: step k completes
  at V+Q+k/steps_per_second; after the last step the job is succeeded,
  failed (fail_at_step) or cancelled (cancel_at_step).  POST .../cancel ends
  a non-finished job at once.  POST .../pause freezes it ("paused");
  POST .../resume shows "queued" for queued_s, then it continues.
  Pause/resume/cancel of a finished job, or resume of a job that is not
  held: 400 (code "invalid_state").
  Jobs list order: newest created_at first, ties: later-added first.
  Every unix timestamp (created_at, finished_at, event and checkpoint times)
  is the real unix time at server start + the fake time of the moment, so
  after /_fake/advance (or with --time-scale > 1) they lie in the future.
  A job's history is fixed once produced: a request never changes what an
  earlier request showed, only adds to it.

API (under PREFIX; auth required; stats key in brackets)
  GET  /fine_tuning/jobs?after=&limit=         limit 20, max 100 (larger is
                                               clamped, <1 or non-integer: 400)
  GET  /fine_tuning/jobs/{id}
  GET  /fine_tuning/jobs/{id}/events?after=&limit=      newest first, limit 20
  GET  /fine_tuning/jobs/{id}/checkpoints?after=&limit= newest first, limit 10,
                                               with first_id/last_id (null if empty)
  POST /fine_tuning/jobs/{id}/cancel | pause | resume   -> job JSON
  GET  /files/{id}           file object (training, validation or result file)
  GET  /files/{id}/content   result file only (404 until the job finished);
                             text/csv or base64 text
  An unknown "after" cursor gives an empty page with has_more false.
  A result file exists once the job is finished and ran >= 1 step (succeeded,
  failed or cancelled alike); result_files is [] (or null, quirk) before.
  Unknown job: 404 {"error":{"message":"Could not find fine tune: ID",
  "type":"invalid_request_error","param":"fine_tune_id","code":"fine_tune_not_found"}}.
  Bad key: 401 {"error":{"message":"Incorrect API key provided",
  "type":"invalid_request_error","param":null,"code":"invalid_api_key"}}.
  Unknown path: 404 "Invalid URL (METHOD PATH)".  Order of checks: fault,
  auth, api-version, route.

EVENTS (newest first in pages; ids "ftevent-" + 24 hex, not sortable;
created_at in whole seconds, ties are common)
  Message events (type "message", data alternately null and {}):
  "Created fine-tuning job: ID", "Validating training file: F[ and
  validation file: G]", "Files validated, moving job to queued state",
  "Fine-tuning job started", "Checkpoint created at step N",
  "New fine-tuned model created: MODEL", "The job has successfully
  completed", failure: the error message (level "error"),
  "Fine-tuning job cancelled", "Fine-tuning job paused", "Fine-tuning job
  resumed".
  Metrics events (type "metrics", message "Step k/T: training loss=1.23[,
  validation loss=..][, full validation loss=..]"): data = {"step": k,
  "train_loss", "train_mean_token_accuracy", ["valid_loss",
  "valid_mean_token_accuracy"], ["full_valid_loss",
  "full_valid_mean_token_accuracy" at epoch ends], "total_steps": T}.
  NaN is sent as the bare JSON token NaN (json.dumps style).
  train_mean_token_accuracy is sometimes the integer 1.
  Metric values are a pure function of (job id, step, curve): the same in
  events, checkpoints, the CSV (Python repr of the same float; NaN is
  written "NaN"; integer 1 as "1"; missing values as empty cells) and truth.

TEST CONTROL (no auth, no faults, not counted in stats; JSON bodies)
  GET  /_fake/stats        {"requests": {"GET /v1/fine_tuning/jobs/{id}/events":
                           n, ...}, "by_job": {ID: {route: n}}, "by_status":
                           {"200": n, "reset": n, ...}, "faults_fired": n,
                           "total": n}.  Routes: "METHOD PREFIX/pattern" with
                           {id} placeholders; unmatched paths count as
                           "METHOD (unmatched)".  by_job also counts
                           /files/{id}... of that job's files.  Every API
                           request counts, including faulted and 401 ones.
  POST /_fake/reset_stats  zero all counters.
  GET  /_fake/truth/{id}   {"id", "status", "total_steps", "steps_done",
                           "finished", "result_file": id|null, "events": n,
                           "checkpoints": n, "points": [[step, metric, value],
                           ...], "visible_points": [...]}.
                           points = every point produced so far (all steps
                           run, sorted by step then in the metric order
                           train_loss, train_mean_token_accuracy, valid_loss,
                           valid_mean_token_accuracy, full_valid_loss,
                           full_valid_mean_token_accuracy); the names are
                           those of metrics events (CSV train_accuracy ->
                           train_mean_token_accuracy; total_steps is not a
                           metric).  visible_points = what a client can see
                           right now: metrics events, plus the result file
                           once it exists; after the job finished with a
                           result file, visible_points == points.  NaN is the
                           string "NaN".  Unknown job: 404.
  GET  /_fake/jobs         {"jobs": [{"id", "status", "visible", "steps_done",
                           "total_steps", "curve"}]}
  POST /_fake/jobs         body: one JOB_SPEC -> {"id": ID} (400 if invalid)
  POST /_fake/remove       {"id": ID}: the job vanishes (404 from now on).
  POST /_fake/key          {"key": "..."}: change the accepted key.
  POST /_fake/advance      {"seconds": X} (X >= 0): move the fake clock ahead.
  GET  /_fake/clock        {"fake_now": s, "unix_now": n}
  POST /_fake/fault        body: one fault or a list -> {"pending": n}
      {"match": REGEX,     re.search on the raw request target (path+query)
       "method": "GET",    optional filter
       "times": 1,         number of matching requests it applies to (>= 1)
       "kind": "status",   one of:
          "status"    answer "status" (default 500) with optional "headers"
                      (e.g. {"retry-after": "1"} or {"retry-after-ms": "200"})
                      and optional "body" (string: sent as is; object: JSON);
                      or "body_b64": the body's raw bytes in base64, sent as
                      application/json (hostile bytes such as invalid
                      UTF-8, which a JSON control body cannot carry);
                      default body: an OpenAI-style error for that status.
                      The request is not executed.
          "malformed" execute the request, answer 200 with the first half of
                      the real body + "<<garbage" (correct Content-Length).
          "truncated" execute the request, send its headers with the full
                      Content-Length but only half the body, then close.
          "slow"      sleep "delay_s" (default 2) then answer normally.
          "reset"     close the connection without answering (RST, SO_LINGER 0);
                      the request is not executed.
          "endless_events"  answer 200 with an events page of "per_page"
                      (default 5000, 1..100000) message events with fresh
                      ids ("ftevent-flood" + 11 hex digits, a counter shared
                      by every such fault, never repeated), message
                      "flood N", created_at now, and has_more: true, whatever
                      the query; with a large "times" and a match on one
                      job's /events it is a job whose history never ends.
                      The request is not executed.
          "reset_body" execute the request, send its headers with the full
                      Content-Length and half the body, then RST (SO_LINGER 0):
                      a connection reset in the middle of the body.
          "reflect"   execute and answer normally, and send the request's
                      credentials back in response headers, as a misbehaving
                      server or proxy might: "x-echo-authorization" and
                      "x-echo-api-key" verbatim (when sent), and "x-echo-token:
                      seen=TOKEN; path=/" with the last word of the
                      Authorization (or the api-key) value.
       }
      Faults are kept in the order added; each API request takes the first
      fault that matches it (method + regex) and uses up one of its "times";
      a fault is dropped when used up.
  GET  /_fake/faults       {"faults": [{..., "remaining": n}]}
  POST /_fake/clear_faults drop all faults.
"""

import argparse
import base64
import hashlib
import http
import json
import math
import os
import re
import signal
import socket
import struct
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

HOST = "127.0.0.1"
ORG_NAME = "fake-org"
ORG_ID = "org-fakeorg000000000000000"
B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
CURVES = ("converging", "overfitting", "failing", "nan", "spike")
METRICS = ("train_loss", "train_mean_token_accuracy", "valid_loss",
           "valid_mean_token_accuracy", "full_valid_loss",
           "full_valid_mean_token_accuracy")
CSV_KEYS = ("step", "train_loss", "train_mean_token_accuracy", "valid_loss",
            "valid_mean_token_accuracy")
CSV_NAMES = {
    "openai": ("step", "train_loss", "train_accuracy", "valid_loss",
               "valid_mean_token_accuracy"),
    "azure": CSV_KEYS,
}
JOB_DEFAULTS = {
    "id": None, "model": "gpt-4o-mini-2024-07-18", "suffix": "ftmon",
    "total_steps": 60, "steps_per_second": 20, "validating_s": 0.2,
    "queued_s": 0.2, "start_after_s": 0, "curve": "converging",
    "fail_at_step": None, "nan_at_step": None, "spike_at_step": None,
    "cancel_at_step": None, "sample_every": 5, "validation": True,
    "valid_every": 1, "n_epochs": 3, "batch_size": 1,
    "learning_rate_multiplier": 1.8, "result_format": "plain",
    "result_header": "openai", "columns_order": None, "status_override": None,
    "error_code": "internal_error",
    "error_message": "The job failed due to an internal error at step {step}.",
    "metadata": None,
}
QUIRKS = ("error_empty_object", "result_files_null", "float_step",
          "organization_null")
SCENARIO_KEYS = ("auth", "api_version", "key", "prefix", "quirks", "jobs")
DEMO = {
    "jobs": [
        {"curve": "converging", "total_steps": 200, "steps_per_second": 10,
         "validating_s": 2, "queued_s": 3, "suffix": "demo-converging"},
        {"curve": "overfitting", "total_steps": 240, "steps_per_second": 10,
         "validating_s": 2, "queued_s": 4, "start_after_s": 2,
         "suffix": "demo-overfitting"},
        {"curve": "failing", "total_steps": 300, "steps_per_second": 8,
         "validating_s": 2, "queued_s": 3, "start_after_s": 4,
         "fail_at_step": 180, "suffix": "demo-failing"},
    ],
}
FAULT_KINDS = ("status", "malformed", "truncated", "slow", "reset",
               "endless_events", "reset_body", "reflect")


class SpecError(Exception):
    pass


class Stop(Exception):
    pass


class ApiError(Exception):
    """An OpenAI-style error response."""

    def __init__(self, status, message, etype="invalid_request_error",
                 param=None, code=None):
        super().__init__(message)
        self.status = status
        self.body = {"error": {"message": message, "type": etype,
                               "param": param, "code": code}}


# ---------------------------------------------------------------- helpers

def digest(*parts):
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()


def unit(*parts):
    """Deterministic pseudo-random number in [0, 1)."""
    return int.from_bytes(digest(*parts)[:8], "big") / 2.0 ** 64


def base62(n, *parts):
    v = int.from_bytes(digest(*parts), "big")
    out = []
    for _ in range(n):
        v, r = divmod(v, 62)
        out.append(B62[r])
    return "".join(out)


def f32(x):
    """Round to float32 precision, as real metric values are."""
    return struct.unpack("<f", struct.pack("<f", x))[0]


def clip01(x):
    return min(max(x, 0.0), 0.999)


def csv_cell(v):
    if v is None:
        return ""
    if isinstance(v, int):
        return str(v)
    if math.isnan(v):
        return "NaN"
    return repr(v)


def truth_value(v):
    if isinstance(v, float) and math.isnan(v):
        return "NaN"
    return v


def short2(v):
    return "nan" if math.isnan(v) else "%.2f" % v


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) \
        and math.isfinite(v)


def dumps(obj):
    return (json.dumps(obj, indent=2) + "\n").encode()


# ---------------------------------------------------------------- job spec

def spec_check_int(spec, key, lo, nullable=False):
    v = spec[key]
    if v is None and nullable:
        return
    if not is_int(v) or v < lo:
        raise SpecError("%s must be an integer >= %d" % (key, lo))


def spec_check_num(spec, key, lo, strict=False):
    v = spec[key]
    if not is_num(v) or v < lo or (strict and v == lo):
        raise SpecError("%s must be a number %s %s" %
                        (key, ">" if strict else ">=", lo))


def spec_check_choice(spec, key, choices):
    if spec[key] not in choices:
        raise SpecError("%s must be one of %s" % (key, ", ".join(choices)))


def spec_normalize(raw):
    """Validate a job spec and fill in defaults; raise SpecError."""
    if not isinstance(raw, dict):
        raise SpecError("a job spec must be a JSON object")
    unknown = sorted(set(raw) - set(JOB_DEFAULTS))
    if unknown:
        raise SpecError("unknown job keys: " + ", ".join(unknown))
    spec = dict(JOB_DEFAULTS)
    spec.update(raw)
    for k in ("total_steps", "sample_every", "valid_every", "n_epochs",
              "batch_size"):
        spec_check_int(spec, k, 1)
    for k in ("fail_at_step", "cancel_at_step", "nan_at_step",
              "spike_at_step"):
        spec_check_int(spec, k, 0, nullable=True)
    spec_check_num(spec, "steps_per_second", 0, strict=True)
    spec_check_num(spec, "learning_rate_multiplier", 0, strict=True)
    for k in ("validating_s", "queued_s", "start_after_s"):
        spec_check_num(spec, k, 0)
    spec_check_choice(spec, "curve", CURVES)
    spec_check_choice(spec, "result_format", ("plain", "base64"))
    spec_check_choice(spec, "result_header", tuple(CSV_NAMES))
    if spec["n_epochs"] > spec["total_steps"]:
        raise SpecError("n_epochs must not exceed total_steps")
    if not isinstance(spec["validation"], bool):
        raise SpecError("validation must be true or false")
    for k in ("model", "suffix", "error_code", "error_message"):
        if not isinstance(spec[k], str) or not spec[k]:
            raise SpecError("%s must be a non-empty string" % k)
    jid = spec["id"]
    if jid is not None and (not isinstance(jid, str)
                            or not re.fullmatch(r"[A-Za-z0-9_.:-]{1,128}", jid)):
        raise SpecError("id must match [A-Za-z0-9_.:-]{1,128}")
    so = spec["status_override"]
    if so is not None and (not isinstance(so, str) or not so):
        raise SpecError("status_override must be null or a non-empty string")
    if spec["metadata"] is not None and not isinstance(spec["metadata"], dict):
        raise SpecError("metadata must be null or an object")
    order = spec["columns_order"]
    names = CSV_NAMES[spec["result_header"]]
    if order is not None and order != "shuffled" and (
            not isinstance(order, list) or sorted(order) != sorted(names)):
        raise SpecError("columns_order must be null, \"shuffled\" or a "
                        "permutation of " + ",".join(names))
    total = spec["total_steps"]
    if spec["curve"] == "failing" and spec["fail_at_step"] is None:
        spec["fail_at_step"] = int(0.6 * total)
    if spec["curve"] == "nan" and spec["nan_at_step"] is None:
        spec["nan_at_step"] = max(1, int(0.5 * total))
    if spec["curve"] == "spike" and spec["spike_at_step"] is None:
        spec["spike_at_step"] = max(1, total // 2)
    return spec


# ---------------------------------------------------------------- metrics

def metrics_at(spec, jid, k, epoch_end):
    """All metric values of step k: a pure function of (job, step, curve)."""
    total = spec["total_steps"]
    p = k / total
    overfit = spec["curve"] == "overfitting"

    def noise(tag):
        return unit(jid, k, tag) - 0.5

    if overfit:
        tl = 0.08 + 2.4 * math.exp(-5 * p) + 0.06 * noise("t")
        vs = 0.75 + 1.9 * math.exp(-6 * p) + 3.0 * max(0.0, p - 0.4) ** 1.3
        ta = clip01(0.5 + 0.49 * (1 - math.exp(-5 * p)) + 0.02 * noise("ta"))
        vas = 0.5 + 0.35 * (1 - math.exp(-6 * p)) - 0.3 * max(0.0, p - 0.4)
    else:
        tl = 0.25 + 2.3 * math.exp(-4 * p) + 0.1 * noise("t") * (1 - 0.5 * p)
        vs = 0.35 + 2.1 * math.exp(-3.5 * p)
        ta = clip01(0.45 + 0.5 * (1 - math.exp(-4 * p)) + 0.04 * noise("ta"))
        vas = 0.5 + 0.4 * (1 - math.exp(-3.5 * p))
    if spec["spike_at_step"] is not None and k == spec["spike_at_step"]:
        tl = 6 * tl + 2
    tl = f32(tl)
    if spec["nan_at_step"] is not None and k >= spec["nan_at_step"]:
        tl = float("nan")
    row = {"train_loss": tl, "train_mean_token_accuracy": f32(ta)}
    if p > 0.5 and unit(jid, k, "one") < 0.15:
        row["train_mean_token_accuracy"] = 1
    if spec["validation"] and k % spec["valid_every"] == 0:
        row["valid_loss"] = f32(vs + 0.05 * noise("v"))
        row["valid_mean_token_accuracy"] = f32(clip01(vas + 0.03 * noise("va")))
    if spec["validation"] and epoch_end:
        row["full_valid_loss"] = vs + 0.004 * noise("fv")
        row["full_valid_mean_token_accuracy"] = clip01(vas + 0.002 * noise("fa"))
    return row


# ---------------------------------------------------------------- job

class Job:
    """One fake job.  Its history is materialised incrementally by tick()."""

    def __init__(self, app, spec, idx, t0):
        self.app = app
        self.spec = spec
        self.idx = idx
        self.id = spec["id"] or "ftjob-" + base62(24, "job", idx, spec["model"])
        self.training_file = "file-" + base62(22, self.id, "train")
        self.validation_file = ("file-" + base62(22, self.id, "valid")
                                if spec["validation"] else None)
        self.result_file = "file-" + base62(22, self.id, "result")
        self.fine_tuned_model = "ft:%s:%s:%s:%s" % (
            spec["model"], ORG_NAME, spec["suffix"], base62(8, self.id, "m"))
        self.seed = int.from_bytes(digest(self.id, "seed")[:4], "big") >> 1
        self.t0 = t0
        self.created_unix = app.unix(t0)
        self.removed = False
        self.shift = 0.0            # fake seconds spent paused
        self.paused_since = t0 if spec["status_override"] else None
        self.override = spec["status_override"]
        self.hold_until = float("-inf")
        self.stage = 0              # 0 none, 1 validating, 2 queued, 3 running
        self.last_eff = float("-inf")
        self.steps_done = 0
        self.final = None           # succeeded | failed | cancelled
        self.finished_unix = None
        self.error = None
        self.events = []            # oldest first
        self.event_pos = {}
        self.n_messages = 0
        self.points = {}            # step -> metric dict
        self.ckpts = []             # oldest first: (step, created_unix, id)
        self.ckpt_pos = {}
        total, n = spec["total_steps"], spec["n_epochs"]
        self.epoch_ends = {e * total // n for e in range(1, n + 1)}
        self.end_step, self.end_kind = total, "succeeded"
        for step, kind in ((spec["cancel_at_step"], "cancelled"),
                           (spec["fail_at_step"], "failed")):
            if step is not None and step <= self.end_step:
                self.end_step, self.end_kind = step, kind

    # -- time

    def visible(self, now):
        return not self.removed and now >= self.t0

    def eff(self, now):
        base = self.paused_since if self.paused_since is not None else now
        return base - self.t0 - self.shift

    def fake_of_eff(self, e):
        return self.t0 + e + self.shift

    # -- history

    def emit(self, fake_t, message, level="info", etype="message", data=None):
        if etype == "message":
            data = None if self.n_messages % 2 == 0 else {}
            self.n_messages += 1
        eid = "ftevent-" + digest(self.id, "event", len(self.events)).hex()[:24]
        self.event_pos[eid] = len(self.events)
        self.events.append({
            "object": "fine_tuning.job.event", "id": eid,
            "created_at": self.app.unix(fake_t), "level": level,
            "message": message, "data": data, "type": etype})

    def tick(self, now):
        if self.final or now < self.t0:
            return
        e = self.eff(now)
        if e <= self.last_eff:
            return
        v = self.spec["validating_s"]
        r0 = v + self.spec["queued_s"]
        if self.stage == 0:
            msg = "Validating training file: " + self.training_file
            if self.validation_file:
                msg += " and validation file: " + self.validation_file
            self.emit(self.t0, "Created fine-tuning job: " + self.id)
            self.emit(self.t0, msg)
            self.stage = 1
        if self.stage == 1 and e >= v:
            self.emit(self.fake_of_eff(v),
                      "Files validated, moving job to queued state")
            self.stage = 2
        if self.stage == 2 and e >= r0:
            self.emit(self.fake_of_eff(r0), "Fine-tuning job started")
            self.stage = 3
        if self.stage == 3:
            sps = self.spec["steps_per_second"]
            reached = int(math.floor((e - r0) * sps + 1e-9))
            for k in range(self.steps_done + 1, min(reached, self.end_step) + 1):
                self.run_step(k, self.fake_of_eff(r0 + k / sps))
            if self.steps_done == self.end_step and reached >= self.end_step:
                self.finish(self.end_kind,
                            self.fake_of_eff(r0 + self.end_step / sps))
        self.last_eff = e

    def run_step(self, k, fake_t):
        spec = self.spec
        total = spec["total_steps"]
        epoch_end = k in self.epoch_ends
        row = metrics_at(spec, self.id, k, epoch_end)
        self.points[k] = row
        self.steps_done = k
        if k % spec["sample_every"] == 0 or epoch_end:
            msg = "Step %d/%d: training loss=%s" % (k, total,
                                                    short2(row["train_loss"]))
            if "valid_loss" in row:
                msg += ", validation loss=" + short2(row["valid_loss"])
            if "full_valid_loss" in row:
                msg += ", full validation loss=" + short2(row["full_valid_loss"])
            data = {"step": k}
            data.update(row)
            data["total_steps"] = total
            self.emit(fake_t, msg, etype="metrics", data=data)
        if epoch_end:
            cid = "ftckpt-" + base62(24, self.id, "ckpt", k)
            self.ckpt_pos[cid] = len(self.ckpts)
            self.ckpts.append((k, self.app.unix(fake_t), cid))
            self.emit(fake_t, "Checkpoint created at step %d" % k)

    def finish(self, kind, fake_t):
        self.final = kind
        self.finished_unix = self.app.unix(fake_t)
        if kind == "succeeded":
            self.emit(fake_t, "New fine-tuned model created: " +
                      self.fine_tuned_model)
            self.emit(fake_t, "The job has successfully completed")
        elif kind == "failed":
            msg = self.spec["error_message"].replace("{step}",
                                                     str(self.steps_done))
            self.error = {"code": self.spec["error_code"], "message": msg,
                          "param": None}
            self.emit(fake_t, msg, level="error")
        else:
            self.emit(fake_t, "Fine-tuning job cancelled")

    # -- actions (caller holds the lock and has ticked the job)

    def check_not_final(self, verb):
        if self.final:
            raise ApiError(400, "Cannot %s job %s: it has already %s." %
                           (verb, self.id, self.final), code="invalid_state")

    def cancel(self, now):
        self.check_not_final("cancel")
        self.finish("cancelled", now)

    def pause(self, now):
        self.check_not_final("pause")
        if self.paused_since is None:
            self.paused_since = now
            self.emit(now, "Fine-tuning job paused")

    def resume(self, now):
        self.check_not_final("resume")
        if self.paused_since is None:
            raise ApiError(400, "Job %s is not paused." % self.id,
                           code="invalid_state")
        requeue = self.spec["queued_s"]
        self.emit(now, "Fine-tuning job resumed")
        # Progress stays frozen during the re-queue: eff() only passes
        # last_eff again once the requeue time has elapsed.
        self.shift += now - self.paused_since + requeue
        self.paused_since = None
        self.override = None
        self.hold_until = now + requeue

    # -- views

    def status(self, now):
        if self.final:
            return self.final
        if self.paused_since is not None:
            return self.override or "paused"
        if now < self.hold_until or self.stage == 2:
            return "queued"
        return "validating_files" if self.stage <= 1 else "running"

    def has_result(self):
        return self.final is not None and self.steps_done > 0

    def hyperparameters(self):
        return {"n_epochs": self.spec["n_epochs"],
                "batch_size": self.spec["batch_size"],
                "learning_rate_multiplier": self.spec["learning_rate_multiplier"]}

    def to_json(self, now):
        q = self.app.quirks
        if self.has_result():
            result_files = [self.result_file]
        elif self.final is None and q["result_files_null"]:
            result_files = None
        else:
            result_files = []
        error = self.error
        if error is None and q["error_empty_object"]:
            error = {}
        estimated = None
        status = self.status(now)
        if status == "running":
            r0 = self.spec["validating_s"] + self.spec["queued_s"]
            total = self.spec["total_steps"]
            estimated = self.app.unix(self.fake_of_eff(
                r0 + total / self.spec["steps_per_second"]))
        hp = self.hyperparameters()
        return {
            "object": "fine_tuning.job", "id": self.id,
            "model": self.spec["model"], "created_at": self.created_unix,
            "finished_at": self.finished_unix,
            "fine_tuned_model": (self.fine_tuned_model
                                 if self.final == "succeeded" else None),
            "organization_id": None if q["organization_null"] else ORG_ID,
            "result_files": result_files, "status": status,
            "validation_file": self.validation_file,
            "training_file": self.training_file,
            "hyperparameters": hp,
            "trained_tokens": (self.steps_done * self.spec["batch_size"] * 317
                               if self.final else None),
            "error": error, "integrations": [], "seed": self.seed,
            "estimated_finish": estimated,
            "method": {"type": "supervised",
                       "supervised": {"hyperparameters": dict(hp)}},
            "metadata": self.spec["metadata"],
            "user_provided_suffix": self.spec["suffix"],
        }

    def ckpt_json(self, entry):
        step, created, cid = entry
        metrics = {"step": float(step) if self.app.quirks["float_step"] else step}
        metrics.update(self.points[step])
        return {"object": "fine_tuning.job.checkpoint", "id": cid,
                "created_at": created,
                "fine_tuned_model_checkpoint":
                    "%s:ckpt-step-%d" % (self.fine_tuned_model, step),
                "fine_tuning_job_id": self.id, "metrics": metrics,
                "step_number": step}

    def csv_columns(self):
        names = CSV_NAMES[self.spec["result_header"]]
        cols = list(zip(CSV_KEYS, names))
        order = self.spec["columns_order"]
        if order == "shuffled":
            shuffled = sorted(cols, key=lambda c: digest(self.id, "col", c[0]))
            if shuffled == cols:
                shuffled = cols[1:] + cols[:1]
            return shuffled
        if isinstance(order, list):
            return [cols[names.index(n)] for n in order]
        return cols

    def result_bytes(self):
        cols = self.csv_columns()
        lines = [",".join(name for _, name in cols)]
        for k in range(1, self.steps_done + 1):
            row = self.points[k]
            lines.append(",".join(str(k) if key == "step"
                                  else csv_cell(row.get(key))
                                  for key, _ in cols))
        data = ("\n".join(lines) + "\n").encode()
        if self.spec["result_format"] == "base64":
            data = base64.b64encode(data)
        return data

    def truth(self, now):
        points = []
        for k in sorted(self.points):
            row = self.points[k]
            points.extend([k, m, truth_value(row[m])] for m in METRICS if m in row)
        seen = {}
        for ev in self.events:
            if ev["type"] == "metrics":
                for m, val in ev["data"].items():
                    if m not in ("step", "total_steps"):
                        seen[(ev["data"]["step"], m)] = val
        if self.has_result():
            for k in range(1, self.steps_done + 1):
                for m in CSV_KEYS[1:]:
                    if m in self.points[k]:
                        seen[(k, m)] = self.points[k][m]
        visible = [[k, m, truth_value(seen[(k, m)])]
                   for k in sorted({k for k, _ in seen})
                   for m in METRICS if (k, m) in seen]
        return {"id": self.id, "status": self.status(now),
                "total_steps": self.spec["total_steps"],
                "steps_done": self.steps_done, "finished": self.final is not None,
                "result_file": self.result_file if self.has_result() else None,
                "events": len(self.events), "checkpoints": len(self.ckpts),
                "points": points, "visible_points": visible}


# ---------------------------------------------------------------- app state

class App:
    def __init__(self, scenario, key_override, time_scale, log_path):
        self.lock = threading.RLock()
        self.mono0 = time.monotonic()
        self.unix0 = time.time()
        self.scale = time_scale
        self.offset = 0.0
        self.jobs = {}
        self.order = []
        self.files = {}             # file id -> (job, "train"|"valid"|"result")
        self.faults = []
        self.flood_seq = 0          # endless_events ids handed out
        self.reset_stats()
        self.load_scenario(scenario)
        if key_override is not None:
            self.key = key_override
        self.log = open(log_path, "a", buffering=1) if log_path else None

    def load_scenario(self, sc):
        if not isinstance(sc, dict):
            raise SpecError("the scenario must be a JSON object")
        unknown = sorted(set(sc) - set(SCENARIO_KEYS))
        if unknown:
            raise SpecError("unknown scenario keys: " + ", ".join(unknown))
        self.auth = sc.get("auth") or "any"
        if self.auth not in ("any", "bearer", "api-key"):
            raise SpecError("auth must be any, bearer or api-key")
        self.api_version = sc.get("api_version")
        if self.api_version is not None and not isinstance(self.api_version, str):
            raise SpecError("api_version must be null or a string")
        self.key = sc.get("key", "sk-test")
        if not isinstance(self.key, str) or not self.key:
            raise SpecError("key must be a non-empty string")
        prefix = sc.get("prefix", "/v1")
        if not isinstance(prefix, str) or (prefix and not prefix.startswith("/")):
            raise SpecError("prefix must be \"\" or start with /")
        self.prefix = prefix.rstrip("/")
        quirks = sc.get("quirks") or {}
        if not isinstance(quirks, dict) or set(quirks) - set(QUIRKS):
            raise SpecError("quirks may only hold " + ", ".join(QUIRKS))
        self.quirks = {q: bool(quirks.get(q, False)) for q in QUIRKS}
        jobs = sc.get("jobs") or []
        if not isinstance(jobs, list):
            raise SpecError("jobs must be a list")
        for i, raw in enumerate(jobs):
            try:
                self.add_job(raw, 0.0)
            except SpecError as e:
                raise SpecError("job %d: %s" % (i, e)) from None

    # -- clock

    def now(self):
        return (time.monotonic() - self.mono0) * self.scale + self.offset

    def unix(self, fake_t):
        return int(self.unix0 + fake_t)

    # -- jobs

    def add_job(self, raw, now):
        spec = spec_normalize(raw)
        job = Job(self, spec, len(self.order), now + spec["start_after_s"])
        if job.id in self.jobs:
            raise SpecError("duplicate job id " + job.id)
        self.jobs[job.id] = job
        self.order.append(job)
        self.files[job.training_file] = (job, "train")
        if job.validation_file:
            self.files[job.validation_file] = (job, "valid")
        self.files[job.result_file] = (job, "result")
        return job

    def find_job(self, jid, now):
        job = self.jobs.get(jid)
        if job is None or not job.visible(now):
            raise ApiError(404, "Could not find fine tune: " + jid,
                           param="fine_tune_id", code="fine_tune_not_found")
        job.tick(now)
        return job

    # -- stats and faults

    def reset_stats(self):
        self.stats = {"requests": {}, "by_job": {}, "by_status": {},
                      "faults_fired": 0, "total": 0}

    def count(self, route, jid):
        st = self.stats
        st["total"] += 1
        st["requests"][route] = st["requests"].get(route, 0) + 1
        if jid is not None:
            per = st["by_job"].setdefault(jid, {})
            per[route] = per.get(route, 0) + 1

    def count_status(self, status):
        key = str(status)
        self.stats["by_status"][key] = self.stats["by_status"].get(key, 0) + 1

    def add_fault(self, f):
        if not isinstance(f, dict):
            raise SpecError("a fault must be an object")
        kind = f.get("kind", "status")
        if kind not in FAULT_KINDS:
            raise SpecError("kind must be one of " + ", ".join(FAULT_KINDS))
        try:
            rx = re.compile(f.get("match", ""))
        except (re.error, TypeError) as e:
            raise SpecError("bad match regex: %s" % e) from None
        times = f.get("times", 1)
        if not is_int(times) or times < 1:
            raise SpecError("times must be an integer >= 1")
        status = f.get("status", 500)
        if kind == "status" and (not is_int(status) or not 100 <= status <= 599):
            raise SpecError("status must be an HTTP status code")
        headers = f.get("headers") or {}
        if not isinstance(headers, dict) or not all(
                isinstance(k, str) and isinstance(v, str)
                for k, v in headers.items()):
            raise SpecError("headers must map strings to strings")
        delay = f.get("delay_s", 2)
        if not is_num(delay) or delay < 0:
            raise SpecError("delay_s must be a number >= 0")
        method = f.get("method")
        if method is not None and not isinstance(method, str):
            raise SpecError("method must be a string")
        per_page = f.get("per_page", 5000)
        if not is_int(per_page) or not 1 <= per_page <= 100000:
            raise SpecError("per_page must be an integer in 1..100000")
        raw = None
        if f.get("body_b64") is not None:
            try:
                raw = base64.b64decode(f["body_b64"], validate=True)
            except (ValueError, TypeError):
                raise SpecError("body_b64 must be base64 text") from None
        fault = {"match": rx.pattern, "method": method, "kind": kind,
                 "times": times, "remaining": times, "status": status,
                 "headers": headers, "body": f.get("body"), "delay_s": delay,
                 "per_page": per_page, "_rx": rx, "_raw": raw}
        self.faults.append(fault)

    def take_fault(self, method, target):
        for f in self.faults:
            if f["method"] and f["method"].upper() != method:
                continue
            if f["_rx"].search(target):
                f["remaining"] -= 1
                if f["remaining"] <= 0:
                    self.faults.remove(f)
                self.stats["faults_fired"] += 1
                return f
        return None

    def flood_page(self, n):
        """An endless_events page: n fresh message events, has_more."""
        with self.lock:
            first = self.flood_seq
            self.flood_seq += n
        stamp = int(time.time())
        data = [{"object": "fine_tuning.job.event",
                 "id": "ftevent-flood%011x" % (first + i),
                 "created_at": stamp, "level": "info",
                 "message": "flood %d" % (first + i), "data": None,
                 "type": "message"} for i in range(n)]
        return (json.dumps({"object": "list", "data": data, "has_more": True},
                           separators=(",", ":")) + "\n").encode()

    def write_log(self, method, target, status, extra=""):
        if self.log is None:
            return
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
        line = "%s %s %s %s%s\n" % (stamp, method, target, status, extra)
        with self.lock:
            try:
                self.log.write(line)
            except (OSError, ValueError):
                pass


# ---------------------------------------------------------------- API routes

JOB_ROUTES = [
    ("GET", re.compile(r"/fine_tuning/jobs"), "/fine_tuning/jobs", "list"),
    ("GET", re.compile(r"/fine_tuning/jobs/([^/]+)"),
     "/fine_tuning/jobs/{id}", "get"),
    ("GET", re.compile(r"/fine_tuning/jobs/([^/]+)/events"),
     "/fine_tuning/jobs/{id}/events", "events"),
    ("GET", re.compile(r"/fine_tuning/jobs/([^/]+)/checkpoints"),
     "/fine_tuning/jobs/{id}/checkpoints", "checkpoints"),
    ("POST", re.compile(r"/fine_tuning/jobs/([^/]+)/cancel"),
     "/fine_tuning/jobs/{id}/cancel", "cancel"),
    ("POST", re.compile(r"/fine_tuning/jobs/([^/]+)/pause"),
     "/fine_tuning/jobs/{id}/pause", "pause"),
    ("POST", re.compile(r"/fine_tuning/jobs/([^/]+)/resume"),
     "/fine_tuning/jobs/{id}/resume", "resume"),
    ("GET", re.compile(r"/files/([^/]+)"), "/files/{id}", "file"),
    ("GET", re.compile(r"/files/([^/]+)/content"), "/files/{id}/content",
     "content"),
]


def query_limit(query, default):
    raw = query.get("limit")
    if raw is None or raw == "":
        return default
    try:
        n = int(raw)
    except ValueError:
        n = 0
    if n < 1:
        raise ApiError(400, "Invalid value for 'limit': must be a positive "
                       "integer.", param="limit", code="invalid_value")
    return min(n, 100)


def page_newest_first(items, pos, query, default_limit):
    """Slice an oldest-first list newest-first, continuing after `after`."""
    limit = query_limit(query, default_limit)
    after = query.get("after")
    if after:
        if after not in pos:
            return [], False
        start = pos[after] - 1
    else:
        start = len(items) - 1
    lo = max(start - limit + 1, 0)
    page = items[lo:start + 1][::-1] if start >= 0 else []
    return page, lo > 0


def api_list(app, now, query):
    jobs = [j for j in app.order if j.visible(now)]
    jobs.sort(key=lambda j: (j.created_unix, j.idx), reverse=True)
    limit = query_limit(query, 20)
    after = query.get("after")
    start = 0
    if after:
        ids = [j.id for j in jobs]
        if after not in ids:
            jobs = []
        else:
            start = ids.index(after) + 1
    page = jobs[start:start + limit]
    for j in page:
        j.tick(now)
    return 200, {"object": "list", "data": [j.to_json(now) for j in page],
                 "has_more": start + limit < len(jobs)}


def api_events(job, now, query):
    page, more = page_newest_first(job.events, job.event_pos, query, 20)
    return 200, {"object": "list", "data": page, "has_more": more}


def api_checkpoints(job, now, query):
    page, more = page_newest_first(job.ckpts, job.ckpt_pos, query, 10)
    data = [job.ckpt_json(c) for c in page]
    return 200, {"object": "list", "data": data,
                 "first_id": data[0]["id"] if data else None,
                 "last_id": data[-1]["id"] if data else None,
                 "has_more": more}


def api_file(app, now, fid, content):
    entry = app.files.get(fid)
    job, kind = entry if entry else (None, None)
    if job is not None and job.visible(now):
        job.tick(now)
    if job is None or not job.visible(now) or (kind == "result"
                                               and not job.has_result()):
        raise ApiError(404, "No such File object: " + fid, param="id",
                       code=None)
    if content:
        if kind != "result":
            raise ApiError(400, "Not allowed to download files of purpose: "
                           "fine-tune", code=None)
        ctype = ("text/plain" if job.spec["result_format"] == "base64"
                 else "text/csv")
        return 200, job.result_bytes(), ctype
    if kind == "result":
        size, created = len(job.result_bytes()), job.finished_unix
        name, purpose = "step_metrics.csv", "fine-tune-results"
    else:
        size, created = 4096 + len(fid), job.created_unix
        name, purpose = kind + ".jsonl", "fine-tune"
    return 200, {"object": "file", "id": fid, "purpose": purpose,
                 "filename": name, "bytes": size, "created_at": created,
                 "expires_at": None, "status": "processed",
                 "status_details": None}


def api_dispatch(app, name, arg, query):
    """Run one API call under the lock; returns (status, body, ctype)."""
    with app.lock:
        now = app.now()
        if name == "list":
            status, body = api_list(app, now, query)
        elif name in ("file", "content"):
            res = api_file(app, now, arg, name == "content")
            if len(res) == 3:
                return res
            status, body = res
        else:
            job = app.find_job(arg, now)
            if name == "get":
                status, body = 200, job.to_json(now)
            elif name == "events":
                status, body = api_events(job, now, query)
            elif name == "checkpoints":
                status, body = api_checkpoints(job, now, query)
            else:
                getattr(job, name)(now)
                status, body = 200, job.to_json(now)
        return status, dumps(body), "application/json"


# ---------------------------------------------------------------- HTTP

FAULT_BODIES = {
    400: ("Bad request.", "invalid_request_error", None),
    401: ("Incorrect API key provided", "invalid_request_error",
          "invalid_api_key"),
    403: ("You are not allowed to perform this request.",
          "invalid_request_error", "permission_denied"),
    404: ("Not found.", "invalid_request_error", "not_found"),
    408: ("Request timed out.", "timeout", None),
    409: ("Conflict.", "invalid_request_error", "conflict"),
    429: ("Rate limit reached for requests.", "requests",
          "rate_limit_exceeded"),
}


def fault_body(status):
    msg, etype, code = FAULT_BODIES.get(status, (
        "The server had an error while processing your request. Sorry about "
        "that!", "server_error", None))
    return {"error": {"message": msg, "type": etype, "param": None,
                      "code": code}}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fakeapi/1"
    sys_version = ""
    timeout = 300

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, fmt, *args):
        pass

    def finish(self):
        try:
            super().finish()
        except OSError:
            pass

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = \
        lambda self: self.dispatch()

    # -- plumbing

    def read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            out = b""
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return out
                out += self.rfile.read(size)
                self.rfile.readline(65537)
        try:
            n = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            n = -1
        if n < 0 or n > 1 << 24:
            self.close_connection = True
            return None
        return self.rfile.read(n) if n else b""

    def send(self, status, body, ctype="application/json", headers=None,
             declared_len=None):
        try:
            reason = http.HTTPStatus(status).phrase
        except ValueError:
            reason = "Status"
        length = len(body) if declared_len is None else declared_len
        if self.command == "HEAD":
            body = b""
        lines = ["HTTP/1.1 %d %s" % (status, reason),
                 "Date: " + self.date_time_string(),
                 "Server: fakeapi/1",
                 "Content-Type: " + ctype,
                 "Content-Length: %d" % length,
                 "x-request-id: req_" + uuid.uuid4().hex]
        for k, v in (headers or {}).items():
            lines.append("%s: %s" % (k, v))
        if self.close_connection:
            lines.append("Connection: close")
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
                         + body)

    def reset_connection(self):
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.rfile.close()
            self.connection.close()
        except OSError:
            pass

    def dispatch(self):
        app = self.server.app
        try:
            body = self.read_body()
        except (OSError, ValueError):
            self.close_connection = True
            return
        target = self.path
        try:
            parts = urlsplit(target)
            path = unquote(parts.path, errors="replace")
            query = {k: v[-1] for k, v in parse_qs(
                parts.query, keep_blank_values=True, errors="replace").items()}
        except ValueError:
            path, query = target, {}
        if body is None:
            status, out = 400, dumps(fault_body(400))
            self.send(status, out)
            app.write_log(self.command, target, status)
            return
        try:
            if path == "/_fake" or path.startswith("/_fake/"):
                status, out = self.control(app, path, body)
                app.write_log(self.command, target, status)
                self.send(status, out)
            else:
                self.api(app, target, path, query)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    # -- API requests

    def match_route(self, app, path):
        if app.prefix and not path.startswith(app.prefix + "/"):
            return None, None, None
        rest = path[len(app.prefix):]
        for method, rx, pattern, name in JOB_ROUTES:
            m = rx.fullmatch(rest)
            if m:
                route = "%s %s%s" % (self.command, app.prefix, pattern)
                arg = m.group(1) if m.groups() else None
                return (name if method == self.command else None), arg, route
        return None, None, None

    def check_auth(self, app, query):
        key = app.key
        bearer = self.headers.get("Authorization") or ""
        azure = self.headers.get("api-key")
        ok_bearer = bearer == "Bearer " + key
        ok_azure = azure == key
        if not ((app.auth in ("any", "bearer") and ok_bearer)
                or (app.auth in ("any", "api-key") and ok_azure)):
            raise ApiError(401, "Incorrect API key provided",
                           code="invalid_api_key")
        if app.api_version is not None:
            got = query.get("api-version")
            if got is None:
                raise ApiError(400, "Missing required query parameter: "
                               "api-version", param="api-version",
                               code="missing_api_version")
            if got != app.api_version:
                raise ApiError(400, "Unsupported api-version: " + got,
                               param="api-version",
                               code="invalid_api_version")

    def api(self, app, target, path, query):
        name, arg, route = self.match_route(app, path)
        jid = arg
        with app.lock:
            if name in ("file", "content") and arg in app.files:
                jid = app.files[arg][0].id
            elif name in ("file", "content"):
                jid = None
            app.count(route or "%s (unmatched)" % self.command, jid)
            fault = app.take_fault(self.command, target)
        kind = fault["kind"] if fault else None
        if kind == "reset":
            self.reset_connection()
            self.finish_api(app, target, "reset", kind)
            return
        if kind == "status":
            status = fault["status"]
            fb = fault["body"]
            if fb is None:
                fb = fault_body(status)
            if fault["_raw"] is not None:
                out, ctype = fault["_raw"], "application/json"
            elif isinstance(fb, str):
                out, ctype = fb.encode(), "text/plain"
            else:
                out, ctype = dumps(fb), "application/json"
            self.finish_api(app, target, status, kind)
            self.send(status, out, ctype, fault["headers"])
            return
        if kind == "endless_events":
            self.finish_api(app, target, 200, kind)
            self.send(200, app.flood_page(fault["per_page"]))
            return
        if kind == "slow":
            time.sleep(fault["delay_s"])
        ctype = "application/json"
        try:
            self.check_auth(app, query)
            if name is None:
                raise ApiError(404, "Invalid URL (%s %s)" % (self.command, path))
            status, out, ctype = api_dispatch(app, name, arg, query)
        except ApiError as e:
            status, out = e.status, dumps(e.body)
        if kind == "malformed":
            status = 200
        # Logged before the answer leaves: a test that has its answer (or
        # ftmonctl's, which follows it) finds the request in the log.
        self.finish_api(app, target, status, kind)
        if kind == "malformed":
            self.send(200, out[:len(out) // 2] + b"<<garbage", ctype)
        elif kind == "truncated":
            self.close_connection = True
            half = out[:len(out) // 2]
            self.send(status, half, ctype, declared_len=len(out))
        elif kind == "reset_body":
            self.send(status, out[:len(out) // 2], ctype, declared_len=len(out))
            self.reset_connection()
        elif kind == "reflect":
            self.send(status, out, ctype, self.reflected_headers())
        else:
            self.send(status, out, ctype)

    def reflected_headers(self):
        out = {}
        auth = self.headers.get("Authorization")
        azure = self.headers.get("api-key")
        if auth:
            out["x-echo-authorization"] = auth
        if azure:
            out["x-echo-api-key"] = azure
        token = (auth or azure or "").split()
        if token:
            out["x-echo-token"] = "seen=%s; path=/" % token[-1]
        return out

    def finish_api(self, app, target, status, kind):
        with app.lock:
            app.count_status(status)
        app.write_log(self.command, target, status,
                      " fault=" + kind if kind else "")

    # -- control requests

    def control(self, app, path, body):
        try:
            req = json.loads(body) if body.strip() else {}
        except ValueError:
            return 400, dumps({"error": "body is not JSON"})
        cmd = (self.command, path.rstrip("/"))
        with app.lock:
            # Serialise under the lock: stats and faults are live objects.
            try:
                status, out = self.control_locked(app, cmd, req)
            except SpecError as e:
                status, out = 400, {"error": str(e)}
            return status, dumps(out)

    def control_locked(self, app, cmd, req):
        now = app.now()
        method, path = cmd
        if cmd == ("GET", "/_fake/stats"):
            return 200, app.stats
        if cmd == ("POST", "/_fake/reset_stats"):
            app.reset_stats()
            return 200, {"ok": True}
        if method == "GET" and path.startswith("/_fake/truth/"):
            job = app.jobs.get(path[len("/_fake/truth/"):])
            if job is None or not job.visible(now):
                return 404, {"error": "no such job"}
            job.tick(now)
            return 200, job.truth(now)
        if cmd == ("GET", "/_fake/jobs"):
            out = []
            for j in app.order:
                j.tick(now)
                out.append({"id": j.id, "status": j.status(now),
                            "visible": j.visible(now),
                            "steps_done": j.steps_done,
                            "total_steps": j.spec["total_steps"],
                            "curve": j.spec["curve"]})
            return 200, {"jobs": out}
        if cmd == ("GET", "/_fake/clock"):
            return 200, {"fake_now": now, "unix_now": app.unix(now)}
        if cmd == ("GET", "/_fake/faults"):
            return 200, {"faults": [{k: v for k, v in f.items() if k != "_rx"}
                                    for f in app.faults]}
        if not isinstance(req, (dict, list)):
            raise SpecError("body must be a JSON object")
        if cmd == ("POST", "/_fake/jobs"):
            return 200, {"id": app.add_job(req, now).id}
        if cmd == ("POST", "/_fake/remove"):
            job = app.jobs.get(req.get("id") if isinstance(req, dict) else None)
            if job is None:
                return 404, {"error": "no such job"}
            job.removed = True
            return 200, {"ok": True}
        if cmd == ("POST", "/_fake/key"):
            key = req.get("key") if isinstance(req, dict) else None
            if not isinstance(key, str) or not key:
                raise SpecError("key must be a non-empty string")
            app.key = key
            return 200, {"ok": True}
        if cmd == ("POST", "/_fake/advance"):
            sec = req.get("seconds") if isinstance(req, dict) else None
            if not is_num(sec) or sec < 0:
                raise SpecError("seconds must be a number >= 0")
            app.offset += sec
            return 200, {"fake_now": app.now()}
        if cmd == ("POST", "/_fake/fault"):
            for f in req if isinstance(req, list) else [req]:
                app.add_fault(f)
            return 200, {"pending": len(app.faults)}
        if cmd == ("POST", "/_fake/clear_faults"):
            app.faults.clear()
            return 200, {"ok": True}
        return 404, {"error": "unknown control endpoint %s %s" % cmd}


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (OSError, ValueError)):
            return
        super().handle_error(request, client_address)


# ---------------------------------------------------------------- main

def write_port_file(path, port):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.replace(tmp, path)


def parse_args(argv):
    ap = argparse.ArgumentParser(description="Fake OpenAI fine-tuning API.")
    ap.add_argument("--host", default=HOST)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    src = ap.add_mutually_exclusive_group()
    src.add_argument("--scenario")
    src.add_argument("--demo", action="store_true")
    ap.add_argument("--key")
    ap.add_argument("--time-scale", type=float, default=1.0)
    ap.add_argument("--log")
    args = ap.parse_args(argv)
    if args.host != HOST:
        ap.error("only --host 127.0.0.1 is allowed")
    if not (args.time_scale > 0 and math.isfinite(args.time_scale)):
        ap.error("--time-scale must be > 0")
    if not 0 <= args.port <= 65535:
        ap.error("bad --port")
    if args.key is not None and not args.key:
        ap.error("--key must not be empty")
    return args


def load_scenario(args):
    if args.demo:
        return DEMO
    if not args.scenario:
        return {}
    with open(args.scenario) as f:
        return json.load(f)


def on_signal(signum, frame):
    raise Stop()


def main(argv):
    args = parse_args(argv)
    try:
        app = App(load_scenario(args), args.key, args.time_scale, args.log)
    except (OSError, ValueError, SpecError) as e:
        print("fakeapi: %s" % e, file=sys.stderr)
        return 2
    try:
        server = Server((HOST, args.port), Handler)
    except OSError as e:
        print("fakeapi: cannot listen: %s" % e, file=sys.stderr)
        return 2
    server.app = app
    port = server.server_address[1]
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        if args.port_file:
            write_port_file(args.port_file, port)
        print("listening on %s:%d" % (HOST, port), flush=True)
        server.serve_forever(poll_interval=0.2)
    except Stop:
        pass
    server.socket.close()
    sys.stdout.flush()
    # Handler threads may be blocked in keep-alive reads: do not wait.
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
