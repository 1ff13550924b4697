#!/usr/bin/env python3
"""demo_trainer.py NAME STEPS DELAY: the README demo's local training run.

A small logistic regression in pure Python, trained by gradient descent on
a synthetic two-class problem, reporting its losses and accuracy through
contrib/python/ftmon.py in JSONL mode ($FTMON_DIR/NAME/metrics.jsonl), the
way a team's own training script would.  DELAY seconds pass between steps
so the demo can show the run progressing.
"""
import math
import os
import random
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "contrib", "python"))
import ftmon  # noqa: E402


def data(n, rng):
    rows = []
    for _ in range(n):
        y = rng.random() < 0.5
        x = [rng.gauss(1.0 if y else -1.0, 1.2), rng.gauss(0.5 if y else -0.5, 1.0)]
        rows.append((x, 1.0 if y else 0.0))
    return rows


def evaluate(w, b, rows):
    loss = acc = 0.0
    for x, y in rows:
        z = w[0] * x[0] + w[1] * x[1] + b
        p = 1.0 / (1.0 + math.exp(-z))
        p = min(max(p, 1e-9), 1 - 1e-9)
        loss -= y * math.log(p) + (1 - y) * math.log(1 - p)
        acc += (p >= 0.5) == (y == 1.0)
    return loss / len(rows), acc / len(rows)


def main():
    name, steps, delay = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    rng = random.Random(7)
    train, valid = data(400, rng), data(200, rng)
    w, b, lr = [0.0, 0.0], 0.0, 0.05
    with ftmon.Run(name) as run:
        for step in range(1, steps + 1):
            gw, gb = [0.0, 0.0], 0.0
            for x, y in rng.sample(train, 32):
                p = 1.0 / (1.0 + math.exp(-(w[0] * x[0] + w[1] * x[1] + b)))
                gw[0] += (p - y) * x[0]
                gw[1] += (p - y) * x[1]
                gb += p - y
            w = [w[0] - lr * gw[0] / 32, w[1] - lr * gw[1] / 32]
            b -= lr * gb / 32
            train_loss, train_acc = evaluate(w, b, train)
            metrics = {"train_loss": train_loss, "train_accuracy": train_acc}
            if step % 5 == 0:
                metrics["valid_loss"], metrics["valid_accuracy"] = evaluate(w, b, valid)
            run.log(step, **metrics)
            time.sleep(delay)


if __name__ == "__main__":
    main()
