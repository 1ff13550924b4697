#!/bin/sh
# kill -9 at many moments while jobs are being followed, then restart: the
# store must end exactly as the truth says, with no point or event doubled
# (the event cursor and its points commit together; the result file and its
# flag too).
. "$(dirname "$0")/lib.sh"

start_fakeapi
OPENAI_POLL=200ms
openai_config
for i in 1 2 3 4; do
	fake POST /_fake/jobs "{\"id\": \"ftjob-k$i\", \"total_steps\": $((60 + i * 30)), \"steps_per_second\": 25, \"sample_every\": $((i + 1)), \"result_format\": \"$([ $((i % 2)) = 0 ] && echo base64 || echo plain)\"}" >/dev/null
done
start_daemon
kills=0
for delay in 0.3 0.9 0.2 1.4 0.6 0.4 1.1 0.25 0.8 0.5 1.3 0.35 0.7 0.15 1.0 0.45; do
	jobs_complete_in_db 4 && break
	sleep "$delay"
	kill -KILL "$DAEMON_PID"
	wait "$DAEMON_PID" 2>/dev/null
	DAEMON_PID=
	kills=$((kills + 1))
	start_daemon
done
diag "killed ftmond $kills times"
is "$(test "$kills" -ge 5 && echo yes)" "yes" "the daemon was killed mid-work at least 5 times"
wait_until 60 jobs_complete_in_db 4
ok $? "all jobs complete after the restarts"
check "stored points equal the truth exactly" truthcheck
is "$(sql "SELECT count(*) - count(DISTINCT job_id || ' ' || source_event_id) FROM events WHERE source_event_id IS NOT NULL")" \
	"0" "no API event stored twice"
is "$(sql "SELECT count(*) FROM events WHERE type = 'job.finished'")" "4" "exactly one job.finished per job"
is "$(sql "SELECT count(*) FROM events WHERE type = 'job.discovered'")" "4" "exactly one job.discovered per job"
is "$(sql "SELECT count(*) FROM (SELECT job_id, message FROM events WHERE type = 'job.status' GROUP BY job_id, message HAVING count(*) > 1)")" \
	"0" "no status transition recorded twice"
is "$(sql "PRAGMA integrity_check")" "ok" "the database is intact"
stop_daemon
is "$DAEMON_STATUS" "0" "a final SIGTERM exits 0"
done_testing
