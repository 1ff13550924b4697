#!/bin/sh
# discover = no: only jobs named with `ftmonctl track` are followed;
# untrack stops the polls; poll asks for one now.
. "$(dirname "$0")/lib.sh"

start_fakeapi
OPENAI_POLL=5s
openai_config "discover = no"
fake POST /_fake/jobs '{"id": "ftjob-t1", "total_steps": 2000, "steps_per_second": 50}' >/dev/null
fake POST /_fake/jobs '{"id": "ftjob-t2", "total_steps": 40, "steps_per_second": 40}' >/dev/null
fake POST /_fake/jobs '{"id": "ftjob-t3", "total_steps": 2000, "steps_per_second": 50}' >/dev/null
start_daemon
out=$(ctl track openai ftjob-t2)
is "$?" "0" "track exits 0"
like "$out" 'openai/ftjob-t2' "and names the job"
wait_until 20 jobs_complete_in_db 1
ok $? "a tracked job is followed to its end"
check "its points equal the truth" truthcheck ftjob-t2
# The tracked job's whole life is the clock: a source that discovered on its
# own would have listed (and stored ftjob-t1) long before it ended.
is "$(sql "SELECT group_concat(external_id) FROM jobs")" "ftjob-t2" "discover = no: nothing tracked on its own"
is "$(fake_stat "$LIST_ROUTE")" "0" "and the job list is never fetched"
ctl track openai ftjob-t1 >/dev/null
wait_until 10 sh -c "[ \"\$(sqlite3 '$DB' \"SELECT count(*) FROM points p JOIN jobs j ON j.id = p.job_id WHERE j.external_id = 'ftjob-t1'\")\" -gt 0 ]"
ok $? "a second tracked job gets points"
n1=$(fake_requests_for ftjob-t1)
check "poll JOB exits 0" ctl poll ftjob-t1
wait_until 5 sh -c "[ \$(curl -s $FAKE/_fake/stats | $PYTHON3 -c 'import json,sys; print(sum(json.load(sys.stdin)[\"by_job\"].get(\"ftjob-t1\",{}).values()))') -gt $n1 ]"
ok $? "poll makes a request now instead of after poll_interval"
check "untrack exits 0" ctl untrack ftjob-t1
# A third tracked job is the witness: `poll` queues every job in one pass, so
# once ftjob-t3's poll is answered and its next request (the events) came
# in, a poll of ftjob-t1 would have arrived too.
ctl track openai ftjob-t3 >/dev/null
wait_until 10 sh -c "[ \"\$(sqlite3 '$DB' \"SELECT count(*) FROM points p JOIN jobs j ON j.id = p.job_id WHERE j.external_id = 'ftjob-t3'\")\" -gt 0 ]"
ok $? "a third tracked job gets points"
n1=$(fake_requests_for ftjob-t1)
n3=$(fake_stat ftjob-t3 "GET /v1/fine_tuning/jobs/{id}")
e3=$(fake_stat ftjob-t3 "GET /v1/fine_tuning/jobs/{id}/events")
ctl poll >/dev/null
wait_until 10 fake_stat_ge $((n3 + 1)) ftjob-t3 "GET /v1/fine_tuning/jobs/{id}"
ok $? "poll polls the tracked job"
wait_until 10 fake_stat_ge $((e3 + 1)) ftjob-t3 "GET /v1/fine_tuning/jobs/{id}/events"
ok $? "and its cycle goes on to the events"
is "$(fake_requests_for ftjob-t1)" "$n1" "an untracked job is not polled, even by poll"
is "$(sql "SELECT tracked FROM jobs WHERE external_id = 'ftjob-t1'")" "0" "untrack is recorded in the database"
like "$(ctl jobs --all | grep ftjob-t1)" ' [a-z]+ \(untracked\) ' "jobs marks the untracked job"
like "$(ctl show ftjob-t1)" 'status: +[a-z]+ \(untracked\)' "show marks the untracked job"
ctl track nosuchsource ftjob-x >/dev/null 2>"$T/err"
is "$?" "1" "track on an unknown source exits 1"
like "$(cat "$T/err")" 'not_found' "naming not_found"
stop_daemon
done_testing
