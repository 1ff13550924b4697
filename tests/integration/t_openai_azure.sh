#!/bin/sh
# Azure OpenAI's dialect (api-key header, api-version query, /openai
# prefix, null result_files, error {}, float checkpoint steps) and statuses
# outside OpenAI's list (paused, pending): stored as given, not finished.
. "$(dirname "$0")/lib.sh"

cat >"$T/scenario.json" <<'JSON'
{"auth": "api-key", "api_version": "2024-10-21", "prefix": "/openai",
 "quirks": {"error_empty_object": true, "result_files_null": true,
            "float_step": true, "organization_null": true},
 "jobs": [{"id": "ftjob-az1", "total_steps": 60, "steps_per_second": 30, "result_header": "azure"},
          {"id": "ftjob-paused", "total_steps": 30, "steps_per_second": 30, "status_override": "paused"},
          {"id": "ftjob-pending", "total_steps": 30, "steps_per_second": 30, "status_override": "pending"}]}
JSON
start_fakeapi --scenario "$T/scenario.json"
write_config "[source azure]
type = openai
base_url = $FAKE/openai
auth = api-key
api_version = 2024-10-21
api_key_file = $T/api.key
poll_interval = 300ms"
printf 'sk-test\n' >"$T/api.key"
chmod 600 "$T/api.key"
start_daemon
wait_until 30 sh -c "[ \"\$(sqlite3 '$DB' \"SELECT count(*) FROM jobs WHERE results_done = 1\")\" = 1 ]"
ok $? "a job over the Azure dialect completes"
check "its points equal the truth" "$PYTHON3" "$HELPERS/truthcheck.py" "$DB" "$FAKE" azure ftjob-az1
is "$(sql "SELECT error IS NULL FROM jobs WHERE external_id = 'ftjob-az1'")" "1" "error {} on a healthy job is not an error"
is "$(sql "SELECT count(*) FROM checkpoints c JOIN jobs j ON j.id = c.job_id WHERE j.external_id = 'ftjob-az1' AND c.step > 0")" \
	"3" "checkpoints with float steps are stored"
is "$(sql "SELECT status FROM jobs WHERE external_id IN ('ftjob-paused', 'ftjob-pending') ORDER BY external_id" | tr '\n' ' ')" \
	"paused pending " "unknown statuses are stored as given"
# Two more fetches of the paused job's object: two more poll cycles began,
# so it is on a schedule, not finishing a last cycle; the daemon has read
# "paused" twice since, and finished nothing.  The discovery listings are
# the clock: both cycles come within five of them (one poll interval each).
l1=$(fake_stat "GET /openai/fine_tuning/jobs")
wait_requests 2 ftjob-paused "GET /openai/fine_tuning/jobs/{id}"
ok $? "a paused job is still polled (not finished)"
l2=$(fake_stat "GET /openai/fine_tuning/jobs")
diag "discovery listings during two polls of the paused job: $((l2 - l1))"
is "$(test $((l2 - l1)) -le 5 && echo yes)" "yes" "at the poll interval (within 5 listings)"
is "$(sql "SELECT count(*) FROM events WHERE type = 'job.finished'")" "1" "and raised no job.finished"
curl -s -X POST -H 'api-key: sk-test' "$FAKE/openai/fine_tuning/jobs/ftjob-paused/resume?api-version=2024-10-21" >/dev/null
curl -s -X POST -H 'api-key: sk-test' "$FAKE/openai/fine_tuning/jobs/ftjob-pending/resume?api-version=2024-10-21" >/dev/null
wait_until 30 sh -c "[ \"\$(sqlite3 '$DB' \"SELECT count(*) FROM jobs WHERE results_done = 1\")\" = 3 ]"
ok $? "resumed jobs run to completion"
check "all points equal the truth" "$PYTHON3" "$HELPERS/truthcheck.py" "$DB" "$FAKE" azure
is "$(grep -c ' 400' "$T/fakeapi.log")" "0" "every request carried api-version (no 400)"
is "$(grep -c ' 401' "$T/fakeapi.log")" "0" "every request carried the api-key header (no 401)"
stop_daemon
done_testing
