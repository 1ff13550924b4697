#!/usr/bin/env python3
"""trainer.py: a real (tiny) training loop that logs JSONL as it trains.

Logistic regression on a synthetic, seeded data set in pure Python; every
step appends one JSON line {"step", "train_loss", "valid_loss", "epoch"}
with json.dumps (so a NaN is written as NaN) and flushes, as a training
script does.  Options shape the stream for the tests:

  trainer.py OUT --steps N [--start S] [--no-step] [--nan-at K] [--bad-every K]
             [--status STATUS] [--job NAME] [--sleep SEC] [--eval-nested] [--seed N]
  trainer.py --many N DIR --steps K: N runs at once in one process, DIR/mI/
             metrics.jsonl each, their steps interleaved (200 Python
             processes would cost the test more than the daemon's work).
"""
import argparse
import json
import math
import os
import random
import sys
import time


def data(n, rng):
    xs, ys = [], []
    for _ in range(n):
        x = [rng.gauss(0, 1), rng.gauss(0, 1)]
        y = 1 if x[0] - 0.5 * x[1] + rng.gauss(0, 0.3) > 0 else 0
        xs.append(x)
        ys.append(y)
    return xs, ys


def loss(w, b, xs, ys):
    total = 0.0
    for x, y in zip(xs, ys):
        z = w[0] * x[0] + w[1] * x[1] + b
        p = 1 / (1 + math.exp(-max(min(z, 30), -30)))
        total -= y * math.log(p + 1e-12) + (1 - y) * math.log(1 - p + 1e-12)
    return total / len(xs)


def many(n, root, steps):
    runs = []
    for i in range(n):
        rng = random.Random(i)
        os.makedirs(os.path.join(root, "m%d" % i), exist_ok=True)
        f = open(os.path.join(root, "m%d" % i, "metrics.jsonl"), "a")
        runs.append((f, data(16, rng), [0.0, 0.0]))
    for step in range(1, steps + 1):
        for f, (xs, ys), w in runs:
            for x, y in zip(xs, ys):
                p = 1 / (1 + math.exp(-max(min(w[0] * x[0] + w[1] * x[1], 30), -30)))
                w[0] -= 0.1 * (p - y) * x[0]
                w[1] -= 0.1 * (p - y) * x[1]
            tl = loss(w, 0.0, xs, ys)
            f.write(json.dumps({"step": step, "train_loss": tl, "valid_loss": tl * 1.1,
                                "epoch": step / 10}) + "\n")
            f.flush()
    for f, _, _ in runs:
        f.close()
    return 0


def main():
    if len(sys.argv) > 3 and sys.argv[1] == "--many":
        return many(int(sys.argv[2]), sys.argv[3], int(sys.argv[5]))
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--start", type=int, default=1)
    ap.add_argument("--no-step", action="store_true")
    ap.add_argument("--nan-at", type=int, default=-1)
    ap.add_argument("--bad-every", type=int, default=0)
    ap.add_argument("--status", default="")
    ap.add_argument("--job", default="")
    ap.add_argument("--sleep", type=float, default=0.0)
    ap.add_argument("--eval-nested", action="store_true")
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    xs, ys = data(64, rng)
    vx, vy = data(32, rng)
    w, b, lr = [0.0, 0.0], 0.0, 0.5
    with open(a.out, "a") as f:
        for step in range(a.start, a.start + a.steps):
            gw, gb = [0.0, 0.0], 0.0
            for x, y in zip(xs, ys):
                z = w[0] * x[0] + w[1] * x[1] + b
                p = 1 / (1 + math.exp(-max(min(z, 30), -30)))
                gw[0] += (p - y) * x[0]
                gw[1] += (p - y) * x[1]
                gb += p - y
            w = [w[0] - lr * gw[0] / len(xs), w[1] - lr * gw[1] / len(xs)]
            b -= lr * gb / len(xs)
            rec = {} if a.no_step else {"step": step}
            if a.job:
                rec["job"] = a.job
            rec["train_loss"] = float("nan") if step == a.nan_at else loss(w, b, xs, ys)
            vl = loss(w, b, vx, vy)
            if a.eval_nested:
                rec["eval"] = {"loss": vl}
            else:
                rec["valid_loss"] = vl
            rec["epoch"] = step / 10
            f.write(json.dumps(rec) + "\n")
            if a.bad_every and step % a.bad_every == 0:
                f.write("this is not json {\n")
            f.flush()
            if a.sleep:
                time.sleep(a.sleep)
        if a.status:
            f.write(json.dumps({"status": a.status}) + "\n")
            f.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
