#!/bin/sh
# contrib/python/ftmon.py driven by a real training loop (logistic
# regression in pure Python): push mode, single points and batched, stores
# exactly the values it logged and ends the job; a run that raises ends
# failed; a refusal raises FtmonError; JSONL mode writes a file whose every
# line parses, flushed as it goes.
. "$(dirname "$0")/lib.sh"

write_config "[source push]
type = push"
start_daemon
HELPER_DIR="$top_srcdir/contrib/python"

# train.py MODE NAME OUT [ARGS]: train, log every epoch through the helper,
# and write what was logged (repr of each float) to OUT as JSON.
cat >"$T/train.py" <<'PY'
import json, math, os, random, sys
sys.path.insert(0, os.environ["HELPER_DIR"])
import ftmon

mode, name, out = sys.argv[1], sys.argv[2], sys.argv[3]
rnd = random.Random(7)
data = []
for _ in range(200):
    x = [rnd.gauss(0, 1), rnd.gauss(0, 1)]
    data.append((x, 1 if 1.5 * x[0] - x[1] + rnd.gauss(0, 0.3) > 0 else 0))
w, b, lr = [0.0, 0.0], 0.0, 0.5
if mode == "push":
    run = ftmon.Run(name, socket=os.environ["SOCK"])
elif mode == "batch":
    run = ftmon.Run(name, socket=os.environ["SOCK"], batch=8)
elif mode == "jsonl":
    run = ftmon.Run(name)
else:
    run = ftmon.Run(name, path=sys.argv[4])
logged = []
for epoch in range(30):
    gw, gb, loss, right = [0.0, 0.0], 0.0, 0.0, 0
    for x, y in data:
        p = 1 / (1 + math.exp(-(w[0] * x[0] + w[1] * x[1] + b)))
        loss -= math.log(p) if y else math.log(1 - p)
        right += (p > 0.5) == (y == 1)
        for i in range(2):
            gw[i] += (p - y) * x[i]
        gb += p - y
    w = [w[i] - lr * gw[i] / len(data) for i in range(2)]
    b -= lr * gb / len(data)
    m = {"train_loss": loss / len(data), "train_accuracy": right / len(data)}
    if epoch == 29:
        m["grad_norm"] = float("nan")  # NaN must survive the trip
    run.log(epoch, **m)
    logged.append([epoch, {k: repr(v) for k, v in m.items()}])
run.finish("succeeded")
json.dump(logged, open(out, "w"))
PY
export HELPER_DIR SOCK

# stored NAME: the stored points of push/NAME as [[step, {metric: repr}]]
stored() {
	"$PYTHON3" - "$DB" "$1" <<'PY'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = db.execute("SELECT step, metric, value FROM metric_points WHERE source = 'push'"
                  " AND job = ? ORDER BY step, metric", (sys.argv[2],)).fetchall()
out = {}
for step, metric, value in rows:
    out.setdefault(step, {})[metric] = repr(float("nan") if value is None else value)
print(json.dumps(sorted([s, m] for s, m in out.items()), sort_keys=True))
PY
}
logged() { "$PYTHON3" -c 'import json,sys; print(json.dumps(sorted(json.load(open(sys.argv[1]))), sort_keys=True))' "$1"; }

"$PYTHON3" "$T/train.py" push logreg "$T/logged1.json"
is "$?" "0" "the training loop ran through the helper in push mode"
is "$(stored logreg)" "$(logged "$T/logged1.json")" "the stored points are exactly what it logged"
is "$(sql "SELECT count(*) FROM metric_points WHERE job = 'logreg'")" "61" "30 epochs x 2 metrics + the NaN"
like "$(sql "SELECT value FROM metric_points WHERE job = 'logreg' AND metric = 'train_loss' AND step = 29")" \
	'^0\.[0-4]' "and the model learned (final loss below 0.5)"
is "$(sql "SELECT status FROM jobs WHERE external_id = 'logreg'")" "succeeded" "finish() ended the job"
is "$(sql "SELECT count(*) FROM events e JOIN jobs j ON j.id = e.job_id WHERE j.external_id = 'logreg' AND e.type = 'job.finished'")" \
	"1" "with job.finished"

c0=$(jget "$(ctl --json status)" 'j["sources"][0]["requests"]')
"$PYTHON3" "$T/train.py" batch logreg-batch "$T/logged2.json"
is "$?" "0" "the same loop with batch=8"
is "$(stored logreg-batch)" "$(logged "$T/logged2.json")" "stores the same exact values"
is "$(($(jget "$(ctl --json status)" 'j["sources"][0]["requests"]') - c0))" "5" \
	"in 4 requests of up to 8 points and the status"

# a run that raises ends failed; a refusal raises FtmonError
r=$("$PYTHON3" - <<'PY'
import os, sys
sys.path.insert(0, os.environ["HELPER_DIR"])
import ftmon
try:
    with ftmon.Run("crash", socket=os.environ["SOCK"]) as run:
        run.log(0, loss=1.0)
        raise KeyboardInterrupt
except KeyboardInterrupt:
    pass
try:
    ftmon.Run("nosuch/x", socket=os.environ["SOCK"]).log(0, loss=1.0)
    print("no error")
except ftmon.FtmonError as e:
    print("refused:", e)
PY
)
is "$r" "refused: not_found: no source named 'nosuch'" "a refused push raises FtmonError with the daemon's reason"
is "$(sql "SELECT status FROM jobs WHERE external_id = 'crash'")" "failed" "a run whose block raised ended failed"

# JSONL mode: FTMON_DIR/NAME/metrics.jsonl, and path=
FTMON_DIR="$T/runs" "$PYTHON3" "$T/train.py" jsonl logreg-file "$T/logged3.json"
is "$?" "0" "the loop in JSONL mode"
f="$T/runs/logreg-file/metrics.jsonl"
check "writes FTMON_DIR/NAME/metrics.jsonl" test -s "$f"
is "$(wc -l <"$f" | tr -d ' ')" "31" "one line per epoch and the status line"
r=$("$PYTHON3" - "$f" "$T/logged3.json" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
want = json.load(open(sys.argv[2]))
got = [[l.pop("step"), {k: repr(v) for k, v in l.items()}] for l in lines[:-1]]
print(got == want, lines[-1], "NaN" in open(sys.argv[1]).read())
PY
)
is "$r" "True {'status': 'succeeded'} True" "every line parses, holds what was logged, NaN written as NaN"
"$PYTHON3" "$T/train.py" path logreg-path "$T/logged4.json" "$T/elsewhere/run.jsonl"
is "$(wc -l <"$T/elsewhere/run.jsonl" | tr -d ' ')" "31" "path= writes where it is told"

stop_daemon
is "$DAEMON_STATUS" "0" "clean exit"
done_testing
