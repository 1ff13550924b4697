#!/bin/sh
# The rules engine on the fake API with the built-in rules at their
# defaults: an overfitting run fires divergence once (with its best
# checkpoint), a converging run fires nothing, a NaN run fires nan once;
# each alert has exactly one alert.fired event carrying its alert_id; a
# kill -9 in the middle of a run neither doubles nor loses its alert; the
# alerts, job and status replies carry what the engine wrote; ack works and
# is refused to a peer that may not mutate.
. "$(dirname "$0")/lib.sh"

start_fakeapi
openai_config
# Anyone may connect, so a peer that may not mutate can be tried.
sed -i 's/^\[daemon\]$/[daemon]\nsocket_mode = 0666/' "$CONF"
start_daemon

for spec in \
	'{"id": "ftjob-over", "curve": "overfitting", "total_steps": 200, "steps_per_second": 100}' \
	'{"id": "ftjob-conv", "curve": "converging", "total_steps": 200, "steps_per_second": 100}' \
	'{"id": "ftjob-nan", "curve": "nan", "total_steps": 100, "steps_per_second": 100}'; do
	fake POST /_fake/jobs "$spec" >/dev/null
done
wait_until 60 jobs_complete_in_db 3
ok $? "the three jobs are stored complete"

alerts_of() { # alerts_of JOB [RULE]
	sql "SELECT count(*) FROM alerts WHERE job = '$1'${2:+ AND rule = '$2'}"
}
is "$(alerts_of ftjob-over divergence)" 1 "the overfitting run fired divergence once"
is "$(alerts_of ftjob-conv)" 0 "the converging run fired nothing"
is "$(alerts_of ftjob-nan nan)" 1 "the NaN run fired nan once"
is "$(sql "SELECT metric FROM alerts WHERE job = 'ftjob-nan' AND rule = 'nan'")" train_loss \
	"the nan alert names the metric"
is "$(sql "SELECT count(*) FROM alerts a WHERE (SELECT count(*) FROM events e
	WHERE e.type = 'alert.fired' AND json_extract(e.data, '$.alert_id') = a.id) != 1")" 0 \
	"every alert has exactly one alert.fired event"
is "$(sql "SELECT count(*) FROM events WHERE type = 'alert.fired'")" "$(sql "SELECT count(*) FROM alerts")" \
	"and there is no alert.fired event without its alert"
data=$(sql "SELECT e.data FROM events e JOIN alerts a ON a.id = json_extract(e.data, '$.alert_id')
	WHERE a.rule = 'divergence' AND e.type = 'alert.fired'")
is "$(jget "$data" 'sorted(k for k in j if k in ("alert_id","rule","metric","value","step","message","best_checkpoint"))')" \
	"['alert_id', 'best_checkpoint', 'message', 'metric', 'rule', 'step', 'value']" \
	"the divergence event carries alert_id, rule, metric, value, step, message, best_checkpoint"
is "$(jget "$data" 'j["best_checkpoint"]["metric"]')" full_valid_loss \
	"its best checkpoint is by full_valid_loss"
best_step=$(jget "$data" 'j["best_checkpoint"]["step"]')
is "$best_step" "$(sql "SELECT p.step FROM metric_points p WHERE p.job = 'ftjob-over' AND p.metric = 'full_valid_loss'
	AND p.step <= $(jget "$data" 'j["step"]') ORDER BY p.value LIMIT 1")" \
	"at the step of the lowest full_valid_loss seen when it fired"
like "$(jget "$data" 'j["best_checkpoint"]["checkpoint"]')" '^ft:.*:ckpt-step-|^ft:' \
	"with the API's checkpoint model name"

# The replies.
r=$(ctl --json alerts --all)
is "$(jget "$r" 'len(j)')" 2 "alerts --all lists both alerts"
is "$(jget "$r" 'sorted(j[0].keys())')" \
	"['acked', 'action', 'action_result', 'action_state', 'best_checkpoint', 'fired_at', 'id', 'job', 'message', 'metric', 'resolved_at', 'rule', 'state', 'step', 'value']" \
	"an alert row has what people need"
r=$(ctl --json show ftjob-over)
is "$(jget "$r" 'j["best_checkpoint"]["step"]')" \
	"$(sql "SELECT step FROM metric_points WHERE job = 'ftjob-over' AND metric = 'full_valid_loss' ORDER BY value LIMIT 1")" \
	"the job reply names the best checkpoint overall"
is "$(jget "$r" '[a["rule"] for a in j["alerts"]]')" "['divergence']" "and lists its alert"
is "$(jget "$(ctl --json show ftjob-nan)" 'j["best_checkpoint"] is not None')" True \
	"a job with validation has a best checkpoint"
firing=$(sql "SELECT count(*) FROM alerts WHERE state = 'firing'")
is "$(jget "$(ctl --json status)" 'j["alerts"]["firing"]')" "$firing" "status counts the firing alerts"

# ack: refused to a peer that may not mutate, then done.
id=$(sql "SELECT id FROM alerts WHERE rule = 'nan'")
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$FTMONCTL" -s "$SOCK" ack "$id" 2>&1)
	ok $((! $?)) "ack is refused to a peer that may not mutate"
	like "$out" 'permission|not allowed|denied' "with a reason"
	is "$(sql "SELECT acked FROM alerts WHERE id = $id")" 0 "and the alert stays unacked"
else
	diag "not root: the refusal of a non-admin ack is not checked"
fi
check "ack $id" ctl ack "$id"
is "$(sql "SELECT acked FROM alerts WHERE id = $id")" 1 "the alert is acked"
check "ack again is fine" ctl ack "$id"
ctl ack 99999 >/dev/null 2>&1
ok $((! $?)) "ack of an unknown alert fails"

# kill -9 in the middle of an overfitting run: one alert, one event.
fake POST /_fake/jobs '{"id": "ftjob-kill", "curve": "overfitting", "total_steps": 400, "steps_per_second": 40}' >/dev/null
wait_until 30 sh -c "[ \$(sqlite3 '$DB' \"SELECT coalesce(max(last_step), 0) FROM jobs WHERE external_id = 'ftjob-kill'\") -ge 150 ]"
ok $? "the long run is half way"
stop_daemon KILL
start_daemon
wait_until 60 jobs_complete_in_db 4
ok $? "after kill -9 and a restart it is stored complete"
is "$(alerts_of ftjob-kill divergence)" 1 "the killed overfitting run has one divergence alert"
is "$(sql "SELECT count(*) FROM events e JOIN jobs j ON j.id = e.job_id WHERE j.external_id = 'ftjob-kill' AND e.type = 'alert.fired'")" 1 \
	"and one alert.fired event"
check "its points still equal the truth" truthcheck ftjob-kill
stop_daemon
done_testing
