#!/bin/sh
# jsonl source, one run at a time: a real trainer's file grows and every
# step lands; NaN is stored as NULL; nested metrics are flattened; a bad
# line is counted with its number and reason and never stops the file; a
# partial last line waits for its newline; a line without a step follows
# the last one; a "job" key names the job; "status" ends it (job.finished).
. "$(dirname "$0")/lib.sh"

TRAINER="$HELPERS/trainer.py"
RUNS="$T/runs"
mkdir -p "$RUNS/run1"
write_config "[source lab]
type = jsonl
path = $RUNS/*/metrics.jsonl
rescan = 1s"
start_daemon

points() { sql "SELECT count(*) FROM metric_points WHERE job = '$1'"; }
has_points() { [ "$(points "$1")" -ge "$2" ]; }
filestat() { # filestat PATH KEY: a field of the file's entry in `status`
	jget "$(ctl --json status)" "[f for f in j['sources'][0]['file_list'] if f['path'] == '$1'][0]['$2']"
}

# Growth: the trainer writes 40 steps, a line a few ms apart; all land.
"$PYTHON3" "$TRAINER" "$RUNS/run1/metrics.jsonl" --steps 40 --sleep 0.01 --nan-at 7 \
	--eval-nested --bad-every 10
wait_until 15 has_points run1 120
ok $? "a growing file: 40 steps x 3 metrics stored"
is "$(sql "SELECT count(DISTINCT step) FROM metric_points WHERE job = 'run1'")" "40" "every step"
is "$(sql "SELECT group_concat(DISTINCT metric) FROM (SELECT metric FROM metric_points WHERE job = 'run1' ORDER BY metric)")" \
	"epoch,eval/loss,train_loss" "nested eval.loss is eval/loss; epoch is a metric"
is "$(sql "SELECT value IS NULL FROM metric_points WHERE job = 'run1' AND metric = 'train_loss' AND step = 7")" \
	"1" "NaN is stored as NULL"
is "$(sql "SELECT status FROM jobs WHERE external_id = 'run1'")" "running" "a new job is running"

show=$(ctl --json show lab/run1)
is "$(jget "$show" 'j["bad_lines"]')" "4" "the four bad lines are counted"
is "$(jget "$show" 'j["last_bad_line"]["line"]')" "44" "the last one's line number (from 1)"
is "$(jget "$show" 'j["last_bad_line"]["reason"]')" "not JSON" "and its reason"
is "$(jget "$(ctl --json status)" 'j["sources"][0]["health"]')" "ok" "bad lines do not make the source unwell"
is "$(jget "$(ctl --json status)" 'j["sources"][0]["files"]')" "1" "status counts the file followed"

# A partial last line waits for its newline.
f="$RUNS/run1/metrics.jsonl"
printf '{"step": 41, "train_loss": 0.25, "valid' >>"$f"
partial_seen() { [ "$(filestat "$f" partial)" -gt 0 ]; }
wait_until 15 partial_seen
ok $? "the daemon saw the partial line"
is "$(sql "SELECT count(*) FROM metric_points WHERE job = 'run1' AND step = 41")" "0" \
	"and stored nothing of it"
printf '_loss": 0.5}\n' >>"$f"
wait_until 15 has_points run1 122
ok $? "once the newline comes the line is stored"
is "$(sql "SELECT value FROM metric_points WHERE job = 'run1' AND step = 41 AND metric = 'valid_loss'")" \
	"0.5" "whole, as written across two writes"

# Lines without a step follow the last one; status ends the job.
"$PYTHON3" "$TRAINER" "$f" --steps 3 --no-step --status succeeded
job_status_is() { [ "$(sql "SELECT status FROM jobs WHERE external_id = '$1'")" = "$2" ]; }
wait_until 15 job_status_is run1 succeeded
ok $? "a status line ends the job"
is "$(sql "SELECT group_concat(step) FROM (SELECT DISTINCT step FROM metric_points WHERE job = 'run1' AND step > 41 ORDER BY step)")" \
	"42,43,44" "lines without a step get the next steps"
is "$(sql "SELECT count(*) FROM events e JOIN jobs j ON j.id = e.job_id WHERE j.external_id = 'run1' AND e.type = 'job.finished'")" \
	"1" "and the job.finished event is written"

# A "job" key names the job, whatever the path says.
mkdir -p "$RUNS/run2"
"$PYTHON3" "$TRAINER" "$RUNS/run2/metrics.jsonl" --steps 5 --job 'sweep a=1 $(b) "c"'
sweep_points() { [ "$(sql "SELECT count(*) FROM metric_points WHERE job = 'sweep a=1 \$(b) \"c\"'")" -ge 15 ]; }
wait_until 15 sweep_points
ok $? "a \"job\" key names the job, shell characters and all"
is "$(sql "SELECT count(*) FROM jobs WHERE external_id = 'run2'")" "0" \
	"and no job is made from the path"
check "ftmonctl shows it by name" ctl --json show 'lab/sweep a=1 $(b) "c"'

# Long lines: one of 300 KB (more than a read) is stored, one of 2 MB
# (over the 1 MiB limit) is a bad line, and the lines around them land.
mkdir -p "$RUNS/long"
"$PYTHON3" -c '
import json, sys
with open(sys.argv[1], "w") as f:
    f.write(json.dumps({"step": 1, "a": 1}) + "\n")
    f.write(json.dumps({"step": 2, "note": "x" * 300000, "b": 2}) + "\n")
    f.write(json.dumps({"step": 3, "note": "y" * 2000000, "c": 3}) + "\n")
    f.write(json.dumps({"step": 4, "d": 4}) + "\n")' "$RUNS/long/metrics.jsonl"
wait_until 15 has_points long 3
ok $? "a 300 KB line is stored, and the lines after a 2 MB one"
is "$(sql "SELECT group_concat(metric || step) FROM (SELECT metric, step FROM metric_points WHERE job = 'long' ORDER BY step)")" \
	"a1,b2,d4" "exactly the lines within 1 MiB"
show=$(ctl --json show lab/long)
is "$(jget "$show" 'j["last_bad_line"]["reason"] + " " + str(j["last_bad_line"]["line"])')" \
	"line longer than 1 MiB 3" "the 2 MB line is bad line 3"

# A file name that is no job name is refused, visibly, not followed.
mkdir -p "$RUNS/$(printf 'bad\001name')"
echo '{"step": 1, "x": 1}' >"$RUNS/$(printf 'bad\001name')/metrics.jsonl"
status_says() { ctl --json status | grep -q "$1"; }
wait_until 15 status_says 'control character'
ok $? "a run directory with a control character is refused in status"
is "$(sql "SELECT count(*) FROM jobs WHERE external_id LIKE 'bad%'")" "0" "and no job is made"

# Reload: an unchanged section keeps the running source (its counters go
# on); a changed one starts a new source that resumes at the stored
# offsets, reading no line again.
srcstat() { jget "$(ctl --json status)" "j['sources'][0]['$1']"; }
lines_before=$(srcstat lines)
check "reload with the section unchanged" ctl reload
is "$(srcstat lines)" "$lines_before" "keeps the running source"
write_config "[source lab]
type = jsonl
path = $RUNS/*/metrics.jsonl
rescan = 2s"
check "reload with the section changed" ctl reload
run1_checked() { [ "$(filestat "$f" offset)" = "$(stat -c %s "$f")" ]; }
wait_until 15 run1_checked
ok $? "the new source finds run1's stored offset"
is "$(srcstat lines)" "0" "and reads none of its lines again"

check "ftmond -t accepts the jsonl config" "$FTMOND" -t -c "$CONF"
stop_daemon
is "$DAEMON_STATUS" "0" "ftmond stops cleanly"
done_testing
