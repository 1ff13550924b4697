#!/bin/sh
# demo.sh BUILDDIR: the README's main job on an embedded default.  Starts the
# bundled simulated fine-tuning API (three jobs: one converging, one
# overfitting, one failing) and a local trainer (a small logistic regression
# writing JSONL through contrib/python/ftmon.py), runs ftmond on a temp dir
# with the built-in rules and an exec hook that appends to a file, and shows
# the jobs progressing to their ends with ftmonctl, the divergence alert
# with its best checkpoint, what the hook was told, and the curves.
# Bounded: ~1 minute.
set -u
build=${1:-build}
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$build" && pwd)
T=$(mktemp -d /tmp/ftmon-demo.XXXXXX)
FAKE_PID= DAEMON_PID= TRAINER_PID=
cleanup() {
	[ -n "$TRAINER_PID" ] && kill "$TRAINER_PID" 2>/dev/null
	[ -n "$DAEMON_PID" ] && kill "$DAEMON_PID" 2>/dev/null
	[ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null
	wait 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

python3 "$src/tests/helpers/fakeapi.py" --demo --time-scale 1 --port 0 \
	--port-file "$T/port" --log "$T/fakeapi.log" >/dev/null 2>&1 &
FAKE_PID=$!
i=0
while [ ! -s "$T/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -s "$T/port" ] || { echo "demo: the simulated API did not start" >&2; exit 1; }

cat >"$T/ftmon.conf" <<CONF
[daemon]
database = $T/ftmon.db
socket = $T/ftmon.sock

[source openai]
type = openai
base_url = http://127.0.0.1:$(cat "$T/port")/v1
api_key_env = DEMO_OPENAI_KEY
poll_interval = 1s

[source lab]
type = jsonl
path = $T/runs/*/metrics.jsonl

[hook demo]
type = exec
command = $src/tests/demo_hook.sh $T/hook.log
events = job.finished alert.fired
CONF
# The simulated API takes any key; -t checks that the variable is set.
DEMO_OPENAI_KEY=sk-test
export DEMO_OPENAI_KEY
echo "== ftmond -t: checking the demo configuration"
"$build/ftmond" -t -c "$T/ftmon.conf" || exit 1
"$build/ftmond" -c "$T/ftmon.conf" 2>"$T/ftmond.log" &
DAEMON_PID=$!
export FTMON_SOCKET="$T/ftmon.sock"
ctl() { "$build/ftmonctl" "$@"; }
i=0
until ctl status >/dev/null 2>&1 || [ $i -ge 100 ]; do sleep 0.1; i=$((i + 1)); done
# The local run: what a team's own training script does with ftmon.py.
mkdir -p "$T/runs"
FTMON_DIR="$T/runs" python3 "$src/tests/demo_trainer.py" local-logreg 80 0.4 &
TRAINER_PID=$!
echo "== ftmonctl status"
ctl status

# Watch the jobs until all three have finished (at most 90 s).
i=0
while [ $i -lt 45 ]; do
	sleep 2
	i=$((i + 1))
	echo
	echo "== ftmonctl jobs   ($((i * 2)) s)"
	ctl jobs --all
	done=$(ctl --json jobs --all | python3 -c 'import json,sys; j=json.load(sys.stdin); print(sum(x["status"] in ("succeeded","failed","cancelled") for x in j), len(j))')
	[ "$done" = "4 4" ] && break
	if [ $i -eq 5 ]; then
		echo
		echo "== ftmonctl watch   (piped: one JSON line per committed change; 2 s)"
		# Into a file, then SIGTERM: watch ends on it by itself.  (Not
		# through `head`: a signal that lands while it exits after EPIPE
		# can hang LeakSanitizer's exit-time check in the ASan build.)
		"$build/ftmonctl" watch >"$T/watch.out" 2>&1 &
		watch_pid=$!
		sleep 2
		kill -TERM "$watch_pid" 2>/dev/null
		wait "$watch_pid"
		cut -c1-160 "$T/watch.out" | head -n 6
	fi
done
TRAINER_PID=
for job in $(ctl --json jobs --all | python3 -c 'import json,sys; print(" ".join(x["name"] for x in json.load(sys.stdin)))'); do
	echo
	echo "== ftmonctl show $job"
	ctl show "$job"
done
over=$(sqlite3 "$T/ftmon.db" "SELECT external_id FROM jobs WHERE source = 'openai' ORDER BY id LIMIT 1 OFFSET 1")
echo
echo "== ftmonctl alerts --all"
ctl alerts --all
echo
echo "== what the hook was told ($T/hook.log)"
i=0 # deliveries run after the commit: give the last one a moment
while [ "$(sqlite3 "$T/ftmon.db" "SELECT count(*) FROM deliveries WHERE state = 'pending'")" != 0 ] &&
	[ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
cat "$T/hook.log" 2>/dev/null
echo
echo "== ftmonctl plot $over -m train_loss -m valid_loss"
ctl plot "$over" -m train_loss -m valid_loss --height 16 || true
echo
echo "== ftmonctl plot local-logreg -m train_accuracy -m valid_accuracy"
ctl plot local-logreg -m train_accuracy -m valid_accuracy --height 10 || true
ctl report $(ctl --json jobs --all | python3 -c 'import json,sys; print(" ".join(x["name"] for x in json.load(sys.stdin)))') \
	-o "$T/report.html"
echo
echo "== sqlite3 $T/ftmon.db: points per job and metric"
sqlite3 -column -header "$T/ftmon.db" \
	"SELECT job, metric, count(*) AS points, min(step) AS first, max(step) AS last
	 FROM metric_points GROUP BY job, metric ORDER BY job, metric"
echo
echo "The database stays at $T/ftmon.db for you to query; the report is $T/report.html."
