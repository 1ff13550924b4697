#!/bin/sh
# action = cancel: when divergence fires on an overfitting run, the fake
# API's cancel endpoint is asked exactly once, the job ends cancelled and
# the alert records the outcome (row and event).  A kill -9 right after
# the request went out (the answer delayed) never sends it again: the
# restart marks the action's outcome unknown instead.
. "$(dirname "$0")/lib.sh"

CANCEL_ROUTE="POST /v1/fine_tuning/jobs/{id}/cancel"
start_fakeapi
openai_config "[rule divergence]
action = cancel"
start_daemon

fake POST /_fake/jobs '{"id": "ftjob-a", "curve": "overfitting", "total_steps": 600, "steps_per_second": 30}' >/dev/null
wait_until 60 jobs_complete_in_db 1
ok $? "the overfitting job is stored finished"
is "$(sql "SELECT status FROM jobs WHERE external_id = 'ftjob-a'")" cancelled "it ended cancelled"
is "$(fake_stat ftjob-a "$CANCEL_ROUTE")" 1 "the cancel endpoint was asked exactly once"
is "$(sql "SELECT count(*) FROM alerts WHERE job = 'ftjob-a' AND rule = 'divergence'")" 1 "one divergence alert"
is "$(sql "SELECT action || ' ' || action_state FROM alerts WHERE job = 'ftjob-a'")" "cancel done" \
	"the alert records the action as done"
like "$(sql "SELECT action_result FROM alerts WHERE job = 'ftjob-a'")" '^HTTP 200' "with the API's answer"
like "$(sql "SELECT data FROM events WHERE type = 'alert.fired'")" '"action":"cancel"' \
	"the alert.fired event names the action"
steps=$(sql "SELECT last_step FROM jobs WHERE external_id = 'ftjob-a'")
ok $([ "$steps" -lt 600 ]; echo $?) "the run stopped early (at step $steps of 600)"
r=$(ctl --json alerts --all)
is "$(jget "$r" 'j[0]["action_state"]')" done "alerts shows the action's outcome"

# kill -9 while the cancel request is in flight (its answer delayed).
fake POST /_fake/fault '{"match": "ftjob-b/cancel", "method": "POST", "kind": "slow", "delay_s": 3}' >/dev/null
fake POST /_fake/jobs '{"id": "ftjob-b", "curve": "overfitting", "total_steps": 600, "steps_per_second": 30}' >/dev/null
wait_until 60 sh -c "[ \"\$(sqlite3 '$DB' \"SELECT action_state FROM alerts WHERE job = 'ftjob-b'\")\" = sent ]"
ok $? "the second alert's action is marked sent before the answer"
stop_daemon KILL
start_daemon
wait_until 60 jobs_complete_in_db 2
ok $? "after the restart the second job is stored finished"
is "$(sql "SELECT status FROM jobs WHERE external_id = 'ftjob-b'")" cancelled "it ended cancelled"
# Another full poll of the fake after the restart proves nothing more was sent.
wait_requests 2 "$LIST_ROUTE"
is "$(fake_stat ftjob-b "$CANCEL_ROUTE")" 1 "the cancel was sent once, not again after the restart"
is "$(sql "SELECT action_state FROM alerts WHERE job = 'ftjob-b'")" failed \
	"its outcome is marked unknown (failed) at the restart"
like "$(sql "SELECT action_result FROM alerts WHERE job = 'ftjob-b'")" 'not sent again' "saying why"
is "$(sql "SELECT count(*) FROM alerts WHERE job = 'ftjob-b'")" 1 "one alert for it"
stop_daemon
done_testing
