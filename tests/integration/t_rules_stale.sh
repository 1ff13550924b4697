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
stale_state() { sql "SELECT state FROM alerts WHERE job = 'ftjob-slow' AND rule = 'stale' ORDER BY id DESC LIMIT 1"; }
fake POST /_fake/advance '{"seconds": 51}' >/dev/null
wait_until 20 sh -c "[ \"\$(sqlite3 '$DB' \"SELECT status FROM jobs WHERE external_id = 'ftjob-slow'\")\" = running ]"
ok $? "the slow job is running"
wait_until 20 sh -c "[ \"\$(sqlite3 '$DB' \"SELECT state FROM alerts WHERE job = 'ftjob-slow' AND rule = 'stale'\")\" = firing ]"
ok $? "it fires stale"
like "$(sql "SELECT message FROM alerts WHERE rule = 'stale'")" 'no new points for 1s' "with a message"
is "$(sql "SELECT count(*) FROM events WHERE type = 'alert.fired'")" 1 "one alert.fired event"

fake POST /_fake/advance '{"seconds": 100}' >/dev/null
wait_until 20 sh -c "[ \"\$(sqlite3 '$DB' \"SELECT state FROM alerts WHERE job = 'ftjob-slow' AND rule = 'stale' ORDER BY id LIMIT 1\")\" = resolved ]"
ok $? "a new point resolves it"
is "$(sql "SELECT count(*) FROM events WHERE type = 'alert.resolved'")" "$(sql "SELECT count(*) FROM alerts WHERE state = 'resolved'")" \
	"one alert.resolved event per resolved alert"

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
