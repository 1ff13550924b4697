#!/bin/sh
# The OpenAI source against a misbehaving API: 429 with either retry
# header, 5xx, resets, timeouts, malformed, truncated and hostile bodies.
# Every job must still end with exactly the truth stored, the daemon must
# back off instead of storming, and errors must be counted, not fatal.
. "$(dirname "$0")/lib.sh"

start_fakeapi
OPENAI_TIMEOUT=1s
openai_config
start_daemon

add_fault() { fake POST /_fake/fault "$1" >/dev/null; }
# Hostile bodies with status 200, each once: the poller must retry.
add_fault '{"match": "ftjob-hostile$", "kind": "status", "status": 200, "body": "{\"id\": 5, \"status\": null}"}'
add_fault '{"match": "ftjob-hostile$", "kind": "status", "status": 200, "body": "null"}'
add_fault '{"match": "ftjob-hostile$", "kind": "status", "status": 200, "body": "{\"id\":\"ftjob-hostile\",\"status\":\"running\",\"error\":{},\"result_files\":{\"x\":1},\"created_at\":1e400,\"trained_tokens\":\"many\",\"model\":[1]}"}'
add_fault '{"match": "ftjob-hostile/events", "kind": "status", "status": 200, "body": "{\"object\":\"list\",\"data\":null,\"has_more\":true}"}'
add_fault '{"match": "ftjob-hostile/events", "kind": "status", "status": 200, "body": "{\"data\":[1,\"x\",null,{\"id\":7},{\"id\":\"ev-huge\",\"type\":\"metrics\",\"data\":{\"step\":1e400,\"train_loss\":\"x\"}}],\"has_more\":false}"}'
add_fault '{"match": "ftjob-hostile/events", "kind": "status", "status": 200, "body": "[]"}'
add_fault '{"match": "ftjob-hostile/checkpoints", "kind": "status", "status": 200, "body": "{\"data\": [{\"id\": null}], \"has_more\": \"yes\"}"}'
add_fault '{"match": "files/.*/content", "kind": "status", "status": 200, "body": "this is not a csv"}'
# Transport and HTTP faults.
add_fault '{"match": "ftjob-f500$", "kind": "status", "status": 500, "times": 3}'
add_fault '{"match": "ftjob-f503/events", "kind": "status", "status": 503, "times": 2}'
add_fault '{"match": "ftjob-reset$", "kind": "reset", "times": 2}'
add_fault '{"match": "ftjob-slow/checkpoints", "kind": "slow", "delay_s": 2.5, "times": 1}'
add_fault '{"match": "ftjob-malformed/events", "kind": "malformed", "times": 2}'
add_fault '{"match": "ftjob-trunc/events", "kind": "truncated", "times": 2}'
add_fault '{"match": "ftjob-408$", "kind": "status", "status": 408, "times": 1}'
add_fault '{"match": "fine_tuning/jobs\\?", "kind": "status", "status": 503, "times": 2}'

for id in hostile f500 f503 reset slow malformed trunc 408; do
	fake POST /_fake/jobs "{\"id\": \"ftjob-$id\", \"total_steps\": 40, \"sample_every\": 3, \"steps_per_second\": 40}" >/dev/null
done
wait_until 60 jobs_complete_in_db 8
ok $? "all eight jobs complete despite the faults"
check "every stored point equals the truth" truthcheck
is "$(fake GET /_fake/faults | jget "$(cat)" 'len(j["faults"])')" "0" "every scripted fault was hit"
ok "$(kill -0 "$DAEMON_PID"; echo $?)" "the daemon is still running"
st=$(ctl --json status)
like "$(jget "$st" 'j["sources"][0]["counters"]')" "'malformed': [1-9]" "malformed responses are counted"
like "$(jget "$st" 'j["sources"][0]["counters"]')" "'retries': [1-9]" "retries are counted"
is "$(jget "$st" 'j["sources"][0]["errors"] > 0')" "True" "errors are counted in status"
like "$(jget "$st" 'j["sources"][0]["last_error"]')" '.' "the last error is shown"
warnings=$(grep -c 'warning' "$T/ftmond.log")
is "$(test "$warnings" -le 40 && echo yes)" "yes" "warnings are rate-limited ($warnings lines)"

# 429: retry-after (seconds) holds the source; no request storm.
fake POST /_fake/reset_stats >/dev/null
add_fault '{"match": "ftjob-rl$", "kind": "status", "status": 429, "headers": {"retry-after": "5"}, "times": 1}'
fake POST /_fake/jobs '{"id": "ftjob-rl", "total_steps": 30, "steps_per_second": 20}' >/dev/null
# Poll with curl and grep only: the window must start as soon as the 429 went out.
faults_empty() { curl -s "$FAKE/_fake/faults" | tr -d ' \n' | grep -q '"faults":\[\]'; }
wait_until 10 faults_empty
served=$?
start=$(now_ms)
ok $served "the 429 was served"
# Wait for the hold to end (the next request of any kind, then the job's
# next one) and measure when it did.  retry-after is 5 s; 4 s leaves room
# for this loop's own latency.
n1=$(fake_requests_for ftjob-rl)
t1=$(fake_total_requests)
wait_until 15 fake_stat_ge $((t1 + 1)) total
ok $? "the source resumes after the hold"
held=$(($(now_ms) - start))
wait_until 15 fake_stat_ge $((n1 + 1)) ftjob-rl
ok $? "and polls the job again"
held_job=$(($(now_ms) - start))
diag "after the 429: first request ${held} ms later, first for the job ${held_job} ms later"
is "$(test "$held" -ge 4000 && echo yes)" "yes" "the whole source holds during the retry-after window (discovery too)"
is "$(test "$held_job" -ge 4000 && echo yes)" "yes" "no request for the job during the retry-after window"
wait_until 30 jobs_complete_in_db 9
ok $? "the rate-limited job completes after the wait"

# 429: retry-after-ms, several times in a row.
add_fault '{"match": "ftjob-rlms", "kind": "status", "status": 429, "headers": {"retry-after-ms": "300"}, "times": 4}'
fake POST /_fake/jobs '{"id": "ftjob-rlms", "total_steps": 30, "steps_per_second": 20}' >/dev/null
wait_until 30 jobs_complete_in_db 10
ok $? "a job behind repeated retry-after-ms 429s completes"
check "rate-limited jobs: points equal the truth" truthcheck ftjob-rl ftjob-rlms
total=$(fake_total_requests)
diag "requests during the 429 phase: $total"
is "$(test "$total" -lt 400 && echo yes)" "yes" "no request storm during backoff"

# A job that vanishes (404) is marked missing and left alone.
fake POST /_fake/jobs '{"id": "ftjob-gone", "total_steps": 400, "steps_per_second": 10}' >/dev/null
wait_until 10 sh -c "[ \"\$(sqlite3 '$DB' \"SELECT count(*) FROM jobs WHERE external_id = 'ftjob-gone'\")\" = 1 ]"
fake POST /_fake/remove '{"id": "ftjob-gone"}' >/dev/null
wait_until 10 sh -c "[ \"\$(sqlite3 '$DB' \"SELECT status FROM jobs WHERE external_id = 'ftjob-gone'\")\" = missing ]"
ok $? "a job answering 404 is marked missing"
n1=$(fake_requests_for ftjob-gone)
# Six more listings (at least 1.2 s of 270-330 ms poll intervals) and
# still no request.
wait_requests 6 "$LIST_ROUTE"
ok $? "discovery goes on (6 more listings)"
is "$(fake_requests_for ftjob-gone)" "$n1" "a missing job is not polled again"
is "$(sql "SELECT count(*) FROM events e JOIN jobs j ON j.id = e.job_id WHERE j.external_id = 'ftjob-gone' AND e.type = 'job.status' AND e.message LIKE '%missing'")" \
	"1" "a job.status event records it"
# A server that answers has_more: true forever with the same page: the
# walk stops at the repeated cursor instead of looping.
add_fault '{"match": "ftjob-loop/events", "kind": "status", "status": 200, "times": 200, "body": "{\"object\":\"list\",\"data\":[{\"id\":\"ftevent-same\",\"created_at\":1,\"type\":\"message\",\"message\":\"again\",\"data\":null}],\"has_more\":true}"}'
fake POST /_fake/jobs '{"id": "ftjob-loop", "total_steps": 2000, "steps_per_second": 5}' >/dev/null
wait_until 10 sh -c "[ \"\$(sqlite3 '$DB' \"SELECT count(*) FROM events e JOIN jobs j ON j.id = e.job_id WHERE j.external_id = 'ftjob-loop' AND e.message = 'again'\")\" = 1 ]"
ok $? "the repeated page's event is stored once"
# Count against the job's own cycles (one fetch of the job object each)
# rather than a clock: eight more cycles (at least 2 s) may cost two events
# pages each, plus two for the cycle under way at the first count.  One
# stats snapshot gives both numbers at once.
loop_counts() { # "CYCLES PAGES" for ftjob-loop
	fake GET /_fake/stats | jget "$(cat)" '"%d %d" % tuple(j["by_job"].get("ftjob-loop", {}).get("GET /v1/fine_tuning/jobs/" + r, 0) for r in ("{id}", "{id}/events"))'
}
read -r c1 p1 <<EOF
$(loop_counts)
EOF
wait_requests 8 ftjob-loop "GET /v1/fine_tuning/jobs/{id}"
ok $? "the looping job is polled on (8 more cycles)"
read -r c2 p2 <<EOF
$(loop_counts)
EOF
used=$((200 - $(fake GET /_fake/faults | jget "$(cat)" 'sum(f["remaining"] for f in j["faults"])')))
diag "looping events pages: $((p2 - p1)) in $((c2 - c1)) cycles, $used in all"
is "$(test $((p2 - p1)) -le $((2 * (c2 - c1) + 2)) && echo yes)" "yes" "a has_more-forever server costs two pages per poll, not a loop"
is "$(test "$used" -le 30 && echo yes)" "yes" "and no more than 30 pages in all"
fake POST /_fake/clear_faults >/dev/null
fake POST /_fake/remove '{"id": "ftjob-loop"}' >/dev/null

# One 404 on a running job is a glitch, not a vanished job.
add_fault '{"match": "ftjob-blip$", "kind": "status", "status": 404, "times": 1}'
fake POST /_fake/jobs '{"id": "ftjob-blip", "total_steps": 40, "steps_per_second": 40}' >/dev/null
wait_until 30 sh -c "[ \"\$(sqlite3 '$DB' \"SELECT results_done FROM jobs WHERE external_id = 'ftjob-blip'\")\" = 1 ]"
ok $? "a job that answered one 404 is still followed to its end"
is "$(sql "SELECT count(*) FROM events e JOIN jobs j ON j.id = e.job_id WHERE j.external_id = 'ftjob-blip' AND e.message LIKE '%missing%'")" \
	"0" "and was never marked missing"
check "its points equal the truth" truthcheck ftjob-blip

# retry-after: 0 must not become a tight retry loop.
add_fault '{"match": "ftjob-zero$", "kind": "status", "status": 429, "headers": {"retry-after": "0"}, "times": 1000}'
fake POST /_fake/jobs '{"id": "ftjob-zero", "total_steps": 40, "steps_per_second": 40}' >/dev/null
# A rate measurement: every request for the job since it was added, over a
# window that starts at the first 429 and lasts 3 s.
wait_until 15 fake_stat_ge 1 ftjob-zero
ok $? "the job is polled and answered 429"
rate_window 3
n=$(fake_requests_for ftjob-zero)
diag "requests for a job answered 429 retry-after: 0 for 3 s: $n"
is "$(test "$n" -le 20 && echo yes)" "yes" "retry-after: 0 backs off instead of looping"
fake POST /_fake/clear_faults >/dev/null

# A result file that is gone: keep the events' points, stop asking.
add_fault '{"match": "/content", "kind": "status", "status": 404, "times": 100000}'
fake POST /_fake/jobs '{"id": "ftjob-nofile", "total_steps": 30, "steps_per_second": 40, "sample_every": 1}' >/dev/null
wait_until 30 sh -c "[ \"\$(sqlite3 '$DB' \"SELECT results_done FROM jobs WHERE external_id = 'ftjob-nofile'\")\" = 1 ]"
ok $? "a finished job whose result file answers 404 is given up on"
n1=$(fake_requests_for ftjob-nofile)
# Seven more listings (at least 1.5 s of poll intervals) and still no
# request.
wait_requests 7 "$LIST_ROUTE"
ok $? "discovery goes on (7 more listings)"
is "$(fake_requests_for ftjob-nofile)" "$n1" "and is not polled again"
check "its points (every step was in the events) equal the truth" truthcheck ftjob-nofile
fake POST /_fake/clear_faults >/dev/null

# An outage: every request fails.  The source backs off as a whole.
for i in 1 2 3 4 5 6; do
	fake POST /_fake/jobs "{\"id\": \"ftjob-out$i\", \"total_steps\": 60, \"steps_per_second\": 20}" >/dev/null
done
wait_until 10 sh -c "[ \"\$(sqlite3 '$DB' \"SELECT count(*) FROM jobs WHERE external_id LIKE 'ftjob-out%'\")\" = 6 ]"
ok $? "six more jobs discovered"
served_503() { fake GET /_fake/stats | jget "$(cat)" 'j["by_status"].get("503", 0)'; }
outage_met() { [ "$(served_503)" -ge $((s0 + 4)) ]; }
s0=$(served_503)
add_fault '{"match": ".", "kind": "status", "status": 503, "times": 100000}'
# Four failures in a row are what make the source hold as a whole, with a
# backoff that starts at 0.5 s and doubles.  The check is a rate on purpose:
# 4 s from 1.5 s after that streak, once the first short holds are over
# (starting at the streak itself, up to three bursts of 7 requests would
# fit in the window and the bound below would measure the jitter).
wait_until 15 outage_met
ok $? "the outage is met with four failures"
rate_window 1.5
n1=$(fake_total_requests)
rate_window 4
n2=$(fake_total_requests)
diag "requests in 4 s of total outage: $((n2 - n1))"
is "$(test $((n2 - n1)) -le 25 && echo yes)" "yes" "no request storm during an outage (6 jobs, 300ms poll)"
fake POST /_fake/clear_faults >/dev/null
wait_until 90 jobs_complete_in_db 19
ok $? "every job completes once the API is back"
check "outage jobs: points equal the truth" truthcheck ftjob-out1 ftjob-out2 ftjob-out3 ftjob-out4 ftjob-out5 ftjob-out6
stop_daemon
is "$DAEMON_STATUS" "0" "SIGTERM exits 0 after all that"
done_testing
