#!/bin/sh
# The database deleted while ftmond runs: noticed within the check interval
# (FTMON_DB_CHECK_MS, short here), logged and shown in `status`, the path
# reopened as a new database, and the jobs read again from the API so the
# new file ends up complete.  Discovery is off, so only the source's resync
# (source.h) can bring the running jobs back: their watches store them again
# and restart; a job that had finished before the deletion is not watched
# and comes back with `track` (with discovery on, discovery finds it).
. "$(dirname "$0")/lib.sh"

export FTMON_DB_CHECK_MS=300
start_fakeapi
OPENAI_POLL=200ms
openai_config "discover = false"
fake POST /_fake/jobs '{"id": "ftjob-d1", "total_steps": 20, "steps_per_second": 40}' >/dev/null
fake POST /_fake/jobs '{"id": "ftjob-d2", "total_steps": 300, "steps_per_second": 25}' >/dev/null
fake POST /_fake/jobs '{"id": "ftjob-d3", "total_steps": 300, "steps_per_second": 25, "sample_every": 2}' >/dev/null
start_daemon
for j in ftjob-d1 ftjob-d2 ftjob-d3; do
	ctl track openai "$j" >/dev/null || bail "track $j"
done
points_of() { sql "SELECT count(*) FROM metric_points WHERE job = '$1'"; }
running_with_points() {
	jobs_complete_in_db 1 && [ "$(points_of ftjob-d2)" -gt 0 ] && [ "$(points_of ftjob-d3)" -gt 0 ]
}
wait_until 30 running_with_points
ok $? "one job complete, two running with points stored"
st=$(ctl --json status)
is "$(jget "$st" 'j["database"]["error"]')" "None" "no database error before"
old_ino=$(stat -c %i "$DB")

# No reader may open the path until the daemon has reopened it: a reader
# would create the new file itself.
rm -f "$DB"
db_error() { jget "$(ctl --json status)" 'j["database"]["error"] or ""'; }
db_error_set() { [ -n "$(db_error)" ]; }
wait_until 10 db_error_set
ok $? "status shows a database error within the check interval"
like "$(db_error)" "^$DB was deleted; reopened at $DB" "it says what happened and that it was reopened"
st=$(ctl --json status)
is "$(jget "$st" 'isinstance(j["database"]["error_at"], (int, float)) and j["database"]["error_at"] > 0')" \
	"True" "with the time"
like "$(grep "was deleted while open" "$T/ftmond.log")" "database $DB was deleted while open" "the log says so"
check "a new database file is at the path" test -f "$DB"
wait_until 60 jobs_complete_in_db 2
ok $? "the two running jobs end complete in the new database"
check "their points equal the truth exactly" truthcheck ftjob-d2 ftjob-d3
check "track brings back the job that had finished" ctl track openai ftjob-d1
wait_until 30 jobs_complete_in_db 3
ok $? "and it is complete too"
is "$(sql "SELECT count(*) FROM jobs")" "3" "each job stored once"
check "stored points equal the truth exactly" truthcheck
is "$(sql "SELECT count(*) - count(DISTINCT job_id || ' ' || source_event_id) FROM events WHERE source_event_id IS NOT NULL")" \
	"0" "no API event stored twice"
is "$(sql "PRAGMA integrity_check")" "ok" "the new database is intact"
st=$(ctl --json status)
is "$(jget "$st" 'j["sources"][0]["health"]')" "ok" "the source is healthy again"
diag "old inode $old_ino, new $(stat -c %i "$DB")"
stop_daemon
is "$DAEMON_STATUS" "0" "SIGTERM exits 0"

# The next start keeps what the reopened file has.
start_daemon
is "$(sql "SELECT count(*) FROM jobs")" "3" "a restart finds the jobs in the new file"
stop_daemon
done_testing
