#!/bin/sh
# jsonl source, files coming and going: a history written before the
# daemon starts is read whole; a run that appears later is picked up (its
# directory too); truncation and rotation start a new generation without
# doubling a point, and rotation reads the renamed file to its end; a
# deleted file leaves its job and points; 200 runs at once all land.
. "$(dirname "$0")/lib.sh"

TRAINER="$HELPERS/trainer.py"
RUNS="$T/runs"
mkdir -p "$RUNS/hist"
points() { sql "SELECT count(*) FROM metric_points WHERE job = '$1'"; }
has_points() { [ "$(points "$1")" -ge "$2" ]; }
filestat() { # filestat PATH KEY
	jget "$(ctl --json status)" "[f for f in j['sources'][0]['file_list'] if f['path'] == '$1'][0]['$2']"
}
generation_is() { [ "$(filestat "$1" generation)" = "$2" ]; }
files_is() { [ "$(jget "$(ctl --json status)" 'j["sources"][0]["files"]')" = "$1" ]; }

# History before start: 500 steps and a final status, written at once.
"$PYTHON3" "$TRAINER" "$RUNS/hist/metrics.jsonl" --steps 500 --status succeeded
write_config "[source lab]
type = jsonl
path = $RUNS/*/metrics.jsonl
rescan = 1h"
start_daemon
wait_until 20 has_points hist 1500
ok $? "a history written before the start is read whole"
is "$(points hist)" "1500" "exactly once"
is "$(sql "SELECT status FROM jobs WHERE external_id = 'hist'")" "succeeded" "with its final status"

# A run that appears after the start, in a new directory (the directory
# watch, not the hour-long rescan, finds it).
mkdir -p "$RUNS/late"
"$PYTHON3" "$TRAINER" "$RUNS/late/metrics.jsonl" --steps 10
wait_until 20 has_points late 30
ok $? "a run that appears after the start is picked up"

# Truncation: the run restarts from scratch and writes its steps again.
f="$RUNS/late/metrics.jsonl"
: >"$f"
"$PYTHON3" "$TRAINER" "$f" --steps 4 --seed 99
wait_until 20 generation_is "$f" 2
ok $? "a truncated file starts generation 2"
"$PYTHON3" "$TRAINER" "$f" --steps 6 --start 11 --seed 99
wait_until 20 has_points late 48
ok $? "and its new steps land"
is "$(points late)" "48" "steps written again add nothing: 16 steps x 3"
is "$(sql "SELECT count(*) FROM (SELECT step, metric FROM metric_points WHERE job = 'late' GROUP BY 1, 2 HAVING count(*) > 1)")" \
	"0" "no point is doubled"

# Rotation: rename, the writer appends a last line to the renamed file,
# then starts a new one at the path.
mkdir -p "$RUNS/rot"
r="$RUNS/rot/metrics.jsonl"
"$PYTHON3" "$TRAINER" "$r" --steps 5
wait_until 20 has_points rot 15
mv "$r" "$r.1"
"$PYTHON3" "$TRAINER" "$r.1" --steps 1 --start 6
"$PYTHON3" "$TRAINER" "$r" --steps 4 --start 7
wait_until 20 has_points rot 30
ok $? "rotation: the renamed file's last line and the new file's lines all land"
is "$(sql "SELECT group_concat(step) FROM (SELECT DISTINCT step FROM metric_points WHERE job = 'rot' ORDER BY step)")" \
	"1,2,3,4,5,6,7,8,9,10" "steps 1-10, none lost, none doubled"
wait_until 20 generation_is "$r" 2
ok $? "the new file is generation 2"

# A deleted file: its job and points stay, the file is no longer followed.
n_before=$(points late)
rm -f "$f"
wait_until 20 files_is 2
ok $? "a deleted file is no longer followed"
is "$(points late)" "$n_before" "its points stay"
check "its job stays" ctl --json show lab/late

# 200 runs at once: 200 models trained side by side, their files
# written step by step, interleaved.
"$PYTHON3" "$TRAINER" --many 200 "$RUNS" --steps 5
many_done() { [ "$(sql "SELECT count(*) FROM metric_points WHERE job LIKE 'm%'")" -ge 3000 ]; }
wait_until 60 many_done
ok $? "200 runs at once: every point lands"
is "$(sql "SELECT count(DISTINCT job) FROM metric_points WHERE job LIKE 'm%'")" "200" "as 200 jobs"
is "$(sql "SELECT count(*) FROM metric_points WHERE job LIKE 'm%'")" "3000" "3000 points, none doubled"
check "the socket answers" ctl ping
stop_daemon
is "$DAEMON_STATUS" "0" "ftmond stops cleanly"
done_testing
