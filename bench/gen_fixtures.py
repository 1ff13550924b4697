#!/usr/bin/env python3
"""Write the static OpenAI fine-tuning API fixtures served by nginx in the
poll-scale benchmark (bench/poll_scale.sh).

  gen_fixtures.py DIR N

DIR/jobs/ftjob-NNNNNN.json     the job object (status "running")
DIR/events/ftjob-NNNNNN.json   its events with limit=100: the job's whole
                               history, 98 metrics events + 2 message
                               events, newest first, has_more=false (~39 KB)
DIR/events/ftjob-NNNNNN.20.json          the same with limit=20 (the API's
                               default): the newest 20, has_more=true
DIR/events/ftjob-NNNNNN.after.ID.json    after=ID (the 20th event), limit
                               100: the 80 older events, has_more=false
DIR/static/checkpoints.json    an empty checkpoints page
DIR/live/MMSS.json, MMSS.20.json         the "live" scenario: 3600
                               versions of the newest events (limit 100 and
                               20), one per second of the hour (nginx picks
                               the version from the clock), each one step
                               (one metrics event) ahead of the previous;
                               shared by all jobs
DIR/live/after/ID.json         after=ID, limit=100, for every ID that
                               ends a live page: the older events, as the
                               API would send them

nginx maps `limit` and `after` to these files (bench/nginx.conf.in) and
answers any other limit or cursor with a 400, so a poller is never
measured parsing a page the API would not send, and a request the fixture
cannot answer is an error, not a silently wrong page.

Event ids are random (24 characters after "ftevent-") and differ between
jobs; the metrics events carry the key set of OpenAI's guide example
(step, train_loss, valid_loss, total_steps, train/valid mean token
accuracy, plus full_valid_* at the end of each epoch).  The output is
deterministic for a given N (fixed seed), so runs can be compared.
"""
import json
import os
import random
import string
import sys

ALNUM = string.ascii_letters + string.digits
PAGE = 100
MESSAGE_EVERY = 50  # one message event per 50 steps


def rand_id(rng, prefix, n=24):
    return prefix + "".join(rng.choices(ALNUM, k=n))


def job_object(k, rng, now):
    jid = "ftjob-%06d" % k
    total = 1000 + (k % 9) * 250
    epochs = 3 + k % 3
    hp = {"n_epochs": epochs, "batch_size": 4, "learning_rate_multiplier": 1.8}
    return jid, total, epochs, {
        "object": "fine_tuning.job",
        "id": jid,
        "model": "gpt-4o-mini-2024-07-18",
        "created_at": now - 3600 - k,
        "finished_at": None,
        "fine_tuned_model": None,
        "organization_id": "org-" + rand_id(rng, "", 24),
        "result_files": [],
        "status": "running",
        "validation_file": rand_id(rng, "file-", 22),
        "training_file": rand_id(rng, "file-", 22),
        "hyperparameters": hp,
        "trained_tokens": None,
        "error": {},
        "user_provided_suffix": "bench",
        "seed": 1234 + k,
        "estimated_finish": now + 1800,
        "integrations": [],
        "metadata": None,
        "method": {"type": "supervised", "supervised": {"hyperparameters": hp}},
    }


def metrics_event(rng, ts, step, total, epoch_end):
    tl = 2.2 / (1 + step / 60.0) * (1 + rng.uniform(-0.1, 0.1))
    vl = tl + 0.08 + rng.uniform(-0.03, 0.03)
    data = {
        "step": step,
        "train_loss": tl,
        "valid_loss": vl,
        "total_steps": total,
        "train_mean_token_accuracy": min(1.0, 0.55 + step / (2.5 * total) + rng.uniform(0, 0.02)),
        "valid_mean_token_accuracy": min(1.0, 0.52 + step / (2.6 * total) + rng.uniform(0, 0.02)),
    }
    msg = "Step %d/%d: training loss=%.2f, validation loss=%.2f" % (step, total, tl, vl)
    if epoch_end:
        data["full_valid_loss"] = vl + rng.uniform(0, 0.05)
        data["full_valid_mean_token_accuracy"] = data["valid_mean_token_accuracy"] - 0.01
        msg += ", full validation loss=%.2f" % data["full_valid_loss"]
    return {"object": "fine_tuning.job.event", "id": rand_id(rng, "ftevent-"), "created_at": ts,
            "level": "info", "message": msg, "data": data, "type": "metrics"}


def message_event(rng, ts, step):
    return {"object": "fine_tuning.job.event", "id": rand_id(rng, "ftevent-"), "created_at": ts,
            "level": "info", "message": "Checkpoint created at step %d" % step, "data": None,
            "type": "message"}


def events_history(k, rng, total, epochs, now):
    """The PAGE events of a job somewhere in its run, newest first."""
    newest_step = 200 + (k * 37) % (total - 300)
    per_epoch = max(1, total // epochs)
    events, step, ts = [], newest_step, now - 5
    while len(events) < PAGE:
        if step % MESSAGE_EVERY == 0:
            events.append(message_event(rng, ts, step))
        if len(events) < PAGE:
            events.append(metrics_event(rng, ts, step, total, step % per_epoch == 0))
        step -= 1
        ts -= 3
    return events


def page_text(events, has_more):
    return ('{"object":"list","data":[' + ",".join(events) + '],"has_more":' +
            ("true" if has_more else "false") + "}")


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def live_pages(out, rng, now):
    """A job that advances one step per second: page MMSS holds the 100
    newest events at second MMSS of the hour (plus message events)."""
    total, first = 6000, 1000
    history = []  # chronological: (step, serialized event)
    for step in range(first - PAGE, first + 3600):
        ts = now - 4000 + step
        if step % MESSAGE_EVERY == 0:
            history.append((step, json.dumps(message_event(rng, ts, step), separators=(",", ":"))))
        history.append((step, json.dumps(metrics_event(rng, ts, step, total, step % 1000 == 0),
                                         separators=(",", ":"))))
    newest = {}
    for i, (step, _) in enumerate(history):
        newest[step] = i  # the metrics event comes after the step's message
    ids = [json.loads(e)["id"] for _, e in history]
    os.makedirs(os.path.join(out, "live", "after"), exist_ok=True)
    ends = set()  # history index of the oldest event of a page served

    def window(end, limit):
        """The limit events before history index end, newest first."""
        start = max(0, end - limit)
        return [e for _, e in reversed(history[start:end])], start

    for v in range(3600):
        end = newest[first + v] + 1
        name = "%02d%02d" % (v // 60, v % 60)
        for limit, sfx in ((PAGE, ""), (20, ".20")):
            page, start = window(end, limit)
            write(os.path.join(out, "live", name + sfx + ".json"), page_text(page, start > 0))
            ends.add(start)
    # after=ID pages; an after page's own oldest event may end another one
    todo = sorted(ends)
    while todo:
        idx = todo.pop()
        page, start = window(idx, PAGE)
        write(os.path.join(out, "live", "after", ids[idx] + ".json"), page_text(page, start > 0))
        if start > 0 and start not in ends:
            ends.add(start)
            todo.append(start)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: gen_fixtures.py DIR N")
    out, n = sys.argv[1], int(sys.argv[2])
    rng = random.Random(20261126)
    now = 1795000000
    for d in ("jobs", "events", "static"):
        os.makedirs(os.path.join(out, d), exist_ok=True)
    sep = (",", ":")
    for k in range(1, n + 1):
        jid, total, epochs, job = job_object(k, rng, now)
        with open(os.path.join(out, "jobs", jid + ".json"), "w") as f:
            f.write(json.dumps(job, separators=sep))
        events = [json.dumps(e, separators=sep)
                  for e in events_history(k, rng, total, epochs, now)]
        base = os.path.join(out, "events", jid)
        write(base + ".json", page_text(events, False))
        write(base + ".20.json", page_text(events[:20], True))
        after = json.loads(events[19])["id"]
        write(base + ".after." + after + ".json", page_text(events[20:], False))
    live_pages(out, rng, now)
    with open(os.path.join(out, "static", "checkpoints.json"), "w") as f:
        f.write(json.dumps({"object": "list", "data": [], "first_id": None,
                            "last_id": None, "has_more": False}, separators=sep))


if __name__ == "__main__":
    main()
