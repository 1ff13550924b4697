#!/bin/sh
# The OpenAI source on the happy path: a job found already finished gets
# its full history; live jobs are followed to their ends; sampled metrics
# events are filled from the result file (plain, base64, reordered
# columns); every stored point equals the fake API's truth, none doubled;
# job.* events land once; finished jobs are not polled again.
. "$(dirname "$0")/lib.sh"

cat >"$T/scenario.json" <<'JSON'
{"jobs": [{"id": "ftjob-early", "total_steps": 40, "steps_per_second": 200,
           "validating_s": 0.1, "queued_s": 0.1, "result_format": "base64"}]}
JSON
start_fakeapi --scenario "$T/scenario.json"
wait_until 20 fake_jobs_finished
ok $? "the early job finished before ftmond started"

openai_config
start_daemon
wait_until 20 jobs_complete_in_db 1
ok $? "a job discovered after it finished is stored complete"
check "its points equal the truth (events + base64 result file)" truthcheck ftjob-early
is "$(sql "SELECT type FROM events e JOIN jobs j ON j.id = e.job_id WHERE j.external_id = 'ftjob-early'
	AND type LIKE 'job.%' ORDER BY e.id" | tr '\n' ' ')" "job.discovered " \
	"a job found already finished gets job.discovered only (no backfilled job.finished)"
like "$(sql "SELECT data FROM events WHERE type = 'job.discovered'")" '"status":"succeeded"' \
	"job.discovered carries the status it was found in"

# Live jobs: each kind of curve and result file.
for spec in \
	'{"id": "ftjob-conv", "curve": "converging", "total_steps": 60, "sample_every": 5}' \
	'{"id": "ftjob-over", "curve": "overfitting", "total_steps": 80, "sample_every": 7, "columns_order": "shuffled"}' \
	'{"id": "ftjob-fail", "curve": "failing", "total_steps": 60, "fail_at_step": 30, "result_format": "base64"}' \
	'{"id": "ftjob-noval", "validation": false, "total_steps": 50, "sample_every": 10, "result_header": "azure"}' \
	'{"id": "ftjob-nan", "curve": "nan", "total_steps": 40}' \
	'{"id": "ftjob-cancel", "total_steps": 60, "cancel_at_step": 20}'; do
	fake POST /_fake/jobs "$spec" >/dev/null
done
wait_until 10 sh -c "[ \$(sqlite3 '$DB' \"SELECT count(*) FROM jobs WHERE status = 'running'\") -ge 1 ]"
ok $? "a live job is seen running"
wait_until 60 jobs_complete_in_db 7
ok $? "all seven jobs are stored complete"
check "every stored point equals the truth: no gap, no duplicate" truthcheck
is "$(sql "SELECT status FROM jobs WHERE external_id IN ('ftjob-fail','ftjob-cancel','ftjob-conv') ORDER BY external_id" | tr '\n' ' ')" \
	"cancelled succeeded failed " "final statuses stored"
is "$(sql "SELECT count(*) FROM metric_points WHERE job = 'ftjob-nan' AND metric = 'train_loss' AND value IS NULL")" \
	"$(fake GET /_fake/truth/ftjob-nan | "$PYTHON3" -c 'import json,sys; print(sum(1 for p in json.load(sys.stdin)["points"] if p[1]=="train_loss" and p[2]=="NaN"))')" \
	"NaN losses are stored as NULL, one per NaN step"
is "$(sql "SELECT count(*) FROM metric_points WHERE metric = 'total_steps'")" "0" "total_steps is not a metric"
is "$(sql "SELECT total_steps FROM jobs WHERE external_id = 'ftjob-over'")" "80" "total_steps stored as job data"
is "$(sql "SELECT count(*) FROM metric_points WHERE metric = 'train_accuracy'")" "0" \
	"result-file train_accuracy is stored as train_mean_token_accuracy"
is "$(sql "SELECT count(*) FROM events WHERE type = 'job.finished'")" "6" "one job.finished event per job seen finishing"
is "$(sql "SELECT count(*) FROM (SELECT job_id FROM events WHERE type = 'job.finished' GROUP BY job_id HAVING count(*) > 1)")" \
	"0" "no job finished twice"
like "$(sql "SELECT message FROM events e JOIN jobs j ON j.id = e.job_id WHERE j.external_id = 'ftjob-conv' AND type = 'message'" | tr '\n' '|')" \
	'Fine-tuning job started.*' "message events are stored"
is "$(sql "SELECT count(*) FROM checkpoints c JOIN jobs j ON j.id = c.job_id WHERE j.external_id = 'ftjob-conv'")" \
	"$(fake GET /_fake/truth/ftjob-conv | "$PYTHON3" -c 'import json,sys; print(json.load(sys.stdin)["checkpoints"])')" \
	"checkpoints stored"
is "$(sql "SELECT count(*) FROM jobs WHERE status = 'succeeded' AND fine_tuned_model LIKE 'ft:%'")" \
	"$(sql "SELECT count(*) FROM jobs WHERE status = 'succeeded'")" "fine_tuned_model stored for succeeded jobs"

# ftmonctl sees the same
j=$(ctl --json show ftjob-over)
is "$(jget "$j" '(j["status"], j["step"], j["total_steps"])')" "('succeeded', 80, 80)" "ftmonctl show: status and steps"
is "$(jget "$(ctl --json metrics ftjob-over -m valid_loss --points 10)" 'len(j["valid_loss"]) <= 10 and j["valid_loss"][0][0] == 1')" \
	"True" "metrics --points downsamples and keeps the first step"

# Finished jobs are not polled again: over nine more discovery listings (at
# least 2 s of 270-330 ms poll intervals) no request names a job.
before=$(fake_job_requests)
wait_requests 9 "$LIST_ROUTE"
ok $? "discovery goes on polling (9 more listings)"
is "$(fake_job_requests)" "$before" "no request names a finished job afterwards"

# A restart does not poll complete jobs either, and stores nothing new.
npoints=$(sql "SELECT count(*) FROM points")
stop_daemon
is "$DAEMON_STATUS" "0" "SIGTERM exits 0 with the source running"
fake POST /_fake/reset_stats >/dev/null
start_daemon
# Seven listings (at least 1.5 s of poll intervals): the restarted source
# has seen every job listed as finished and had time to poll any of them.
wait_requests 7 "$LIST_ROUTE"
ok $? "the restarted source lists the jobs (7 listings)"
is "$(fake_job_requests)" "0" "after a restart, complete jobs are not polled"
is "$(sql "SELECT count(*) FROM points")" "$npoints" "and no point is added"
st=$(ctl --json status)
is "$(jget "$st" '[ (s["name"], s["health"]) for s in j["sources"]]')" "[('openai', 'ok')]" "status: source healthy"
stop_daemon
done_testing
