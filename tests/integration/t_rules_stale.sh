#!/bin/sh
# stale: a running job that sends nothing new for stale_after fires (from
# the engine's timer), a new point resolves it; a job that finishes
# resolves a firing stale alert; a disabled rule never fires.
. "$(dirname "$0")/lib.sh"

start_fakeapi
openai_config "[rule stale]
stale_after = 1s
[rule spike]
enabled = no"
start_daemon

# One step every 50 fake seconds: after its first points it goes quiet.
fake POST /_fake/jobs '{"id": "ftjob-slow", "total_steps": 20, "steps_per_second": 0.02, "sample_every": 1}' >/dev/null
fake POST /_fake/advance '{"seconds": 51}' >/dev/null
wait_until 20 sh -c "[ \"\$(sqlite3 '$DB' \"SELECT status FROM jobs WHERE external_id = 'ftjob-slow'\")\" = running ]"
ok $? "the slow job is running"
firing() { sql "SELECT id FROM alerts WHERE job = 'ftjob-slow' AND rule = 'stale' AND state = 'firing'"; }
wait_until 20 sh -c "[ -n \"\$(sqlite3 '$DB' \"SELECT id FROM alerts WHERE job = 'ftjob-slow' AND rule = 'stale' AND state = 'firing'\")\" ]"
ok $? "it fires stale"
id=$(firing)
like "$(sql "SELECT message FROM alerts WHERE id = $id")" 'no new points for 1s' "with a message"
is "$(sql "SELECT count(*) FROM alerts WHERE rule = 'stale' AND state = 'firing'")" 1 "one episode at a time"
# Both counts in one query: one snapshot.
is "$(sql "SELECT (SELECT count(*) FROM events WHERE type = 'alert.fired') = (SELECT count(*) FROM alerts)")" 1 \
	"one alert.fired event per alert"

fake POST /_fake/advance '{"seconds": 100}' >/dev/null
wait_until 20 sh -c "[ \"\$(sqlite3 '$DB' \"SELECT state FROM alerts WHERE id = $id\")\" = resolved ]"
ok $? "a new point resolves it"
is "$(sql "SELECT (SELECT count(*) FROM events WHERE type = 'alert.resolved') =
	(SELECT count(*) FROM alerts WHERE state = 'resolved')")" 1 "one alert.resolved event per resolved alert"

# Finishing resolves a firing stale alert.
wait_until 20 sh -c "[ \"\$(sqlite3 '$DB' \"SELECT count(*) FROM alerts WHERE job = 'ftjob-slow' AND rule = 'stale' AND state = 'firing'\")\" = 1 ]"
ok $? "quiet again, it fires a new episode"
fake POST /_fake/advance '{"seconds": 2000}' >/dev/null
wait_until 30 jobs_complete_in_db 1
ok $? "the job finishes"
is "$(sql "SELECT count(*) FROM alerts WHERE state = 'firing'")" 0 "finishing resolved the stale alert"
is "$(sql "SELECT count(*) FROM alerts WHERE rule = 'spike'")" 0 "the disabled spike rule fired nothing"
stop_daemon
done_testing
