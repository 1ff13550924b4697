"""ftmon: report a local training run to ftmon.  Standard library only.

    import ftmon
    run = ftmon.Run("resnet-lr3e-4")          # JSONL (default) or push=True
    for step in range(1000):
        ...
        run.log(step, train_loss=loss, lr=lr)  # step=None: the next step
    run.finish("succeeded")                    # or "failed", "cancelled"

JSONL mode (the default) appends one JSON object per step to
``path`` or, without one, to ``$FTMON_DIR/NAME/metrics.jsonl`` (FTMON_DIR
defaults to ``./ftmon-runs``), flushed line by line; a ``jsonl`` source
with ``path = /that/dir/*/metrics.jsonl`` follows it and names the job
NAME.  NaN and infinities are written as Python's json does (NaN,
Infinity, -Infinity), which ftmon reads as numbers.

Push mode (``push=True``, or ``socket=PATH``) sends each point to ftmond's
``log`` command over its control socket (``socket``, else $FTMON_SOCKET,
else /run/ftmon/ftmon.sock) and waits for the answer, so a point is stored
when log() returns; ``batch=N`` sends N points per request instead.  NAME
is a job of the only push source, or ``SOURCE/NAME``.  The user needs root
or the daemon's admin_group.  Used as a context manager, a Run finishes
"succeeded", or "failed" when the block raises.
"""
import json
import math
import os
import socket as _socket

__all__ = ["Run", "FtmonError"]


class FtmonError(RuntimeError):
    """The daemon refused a request (its error code and message)."""


def _value(v):
    v = float(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v


class Run:
    def __init__(self, name, path=None, push=False, socket=None, batch=1):
        self.name, self.batch, self._pending, self._id = name, max(1, batch), [], 0
        self._sock = self._file = None
        if push or socket:
            path = socket or os.environ.get("FTMON_SOCKET", "/run/ftmon/ftmon.sock")
            self._sock = _socket.socket(_socket.AF_UNIX)
            self._sock.connect(path)
            self._replies = self._sock.makefile("rb")
        else:
            if path is None:
                if "/" in name:
                    raise ValueError("a JSONL run's name is its directory: no '/'")
                path = os.path.join(os.environ.get("FTMON_DIR", "ftmon-runs"), name,
                                    "metrics.jsonl")
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            self.path = path
            self._file = open(path, "a", encoding="utf-8")

    def _request(self, args):
        self._id += 1
        line = json.dumps({"id": self._id, "cmd": "log", "args": dict(job=self.name, **args)})
        self._sock.sendall(line.encode() + b"\n")
        reply = json.loads(self._replies.readline() or b'{"ok": false}')
        if not reply.get("ok"):
            err = reply.get("error") or {"code": "closed", "message": "the daemon closed"}
            raise FtmonError("%s: %s" % (err.get("code"), err.get("message")))
        return reply["result"]

    def log(self, step=None, **metrics):
        """Record metrics (name=number) at step (an int >= 0, or None)."""
        if self._file:
            line = dict(metrics) if step is None else dict(step=step, **metrics)
            self._file.write(json.dumps(line) + "\n")
            self._file.flush()
            return
        point = {"metrics": {k: _value(v) for k, v in metrics.items()}}
        if step is not None:
            point["step"] = step
        self._pending.append(point)
        if len(self._pending) >= self.batch:
            self.flush()

    def flush(self):
        """Push the points batched so far (push mode)."""
        pending, self._pending = self._pending, []
        if len(pending) == 1:
            self._request(pending[0])
        elif pending:
            self._request({"points": pending})

    def finish(self, status="succeeded"):
        """End the run: succeeded, failed or cancelled."""
        if self._file:
            self._file.write(json.dumps({"status": status}) + "\n")
            self._file.close()
            self._file = None
        elif self._sock:
            self.flush()
            self._request({"status": status})
            self._sock.close()
            self._sock = None

    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        self.finish("failed" if kind else "succeeded")
