#!/bin/sh
# Webhook formats as receivers get them: slack ({"text"} plus attachments,
# paced to one request a second whatever its concurrency), text (one plain
# line, text/plain) and alertmanager (an array of one alert with the
# labels), each to its own receiver, for a real job's events.
. "$(dirname "$0")/lib.sh"

start_recv() { # start_recv NAME: a receiver logging to $T/NAME.jsonl, URL in $RECV_URL
	rm -f "$T/$1.port"
	"$PYTHON3" "$HELPERS/hookrecv.py" --port-file "$T/$1.port" --log "$T/$1.jsonl" \
		>>"$T/recv.log" 2>&1 &
	eval "PID_$1=\$!"
	wait_until 10 test -s "$T/$1.port" || bail "hookrecv $1 did not start"
	RECV_URL="http://127.0.0.1:$(cat "$T/$1.port")/hook"
}
recv_py() { # recv_py NAME CODE: CODE sees recs, the requests NAME got
	"$PYTHON3" -c "import json,sys
recs = [json.loads(l) for l in open('$T/$1.jsonl')]
$2"
}

start_fakeapi
start_recv slack
URL_SLACK=$RECV_URL
start_recv text
URL_TEXT=$RECV_URL
start_recv am
URL_AM=$RECV_URL
openai_config "[hook slack]
type = webhook
url = $URL_SLACK
format = slack
concurrency = 8
[hook text]
type = webhook
url = $URL_TEXT
format = text
[hook am]
type = webhook
url = $URL_AM
format = alertmanager"
fake POST /_fake/jobs '{"id": "ftjob-f1", "total_steps": 20, "steps_per_second": 40}' >/dev/null
start_daemon
wait_until 30 jobs_complete_in_db 1
ok $? "the job completes"
done_all() {
	[ "$(sql "SELECT count(*) FROM deliveries WHERE state = 'delivered'")" = \
		$((3 * $(sql "SELECT count(*) FROM events WHERE type LIKE 'job.%'"))) ]
}
wait_until 30 done_all
ok $? "every event is delivered to the three hooks"
nev=$(sql "SELECT count(*) FROM events WHERE type LIKE 'job.%'")

is "$(recv_py slack 'print(len(recs), all(isinstance(json.loads(r["body"])["text"], str) and json.loads(r["body"])["attachments"][0]["fields"][0]["title"] == "Job" for r in recs))')" \
	"$nev True" "slack: {\"text\": ..., \"attachments\": [{fields}]} for every event"
like "$(recv_py slack 'print([json.loads(r["body"])["text"] for r in recs if "finished" in r["body"]][0])')" \
	'^ftmon: job openai/ftjob-f1 finished: succeeded' "slack: the text is the readable summary"
gap=$(recv_py slack 'ts = sorted(r["t"] for r in recs); print("%.3f" % min(b - a for a, b in zip(ts, ts[1:])))')
diag "slack: shortest gap between two requests: $gap s"
like "$gap" '^(0\.9[5-9]|[1-9])' "slack: about one request a second, despite concurrency = 8"

is "$(recv_py text 'print(len(recs), {r["ctype"] for r in recs})')" "$nev {'text/plain; charset=utf-8'}" \
	"text: text/plain"
is "$(recv_py text 'print(sum(1 for r in recs if "\n" in r["body"] or not r["body"].startswith("ftmon: job openai/ftjob-f1 ")))')" \
	"0" "text: one plain line each"

am=$(recv_py am 'print(json.dumps([json.loads(r["body"]) for r in recs if "job_finished" in r["body"]][0]))')
is "$(jget "$am" 'len(j), sorted(j[0]["labels"].items())')" \
	"1 [('alertname', 'ftmon_job_finished'), ('job', 'openai/ftjob-f1'), ('rule', 'job.finished'), ('severity', 'info'), ('source', 'openai')]" \
	"alertmanager: an array of one alert with alertname, job, source, rule, severity"
like "$(jget "$am" 'j[0]["startsAt"], j[0]["endsAt"]')" \
	'^20[0-9-]+T[0-9:]+Z 20[0-9-]+T[0-9:]+Z$' "alertmanager: startsAt and endsAt in RFC 3339"
stop_daemon
is "$DAEMON_STATUS" "0" "SIGTERM exits 0"
kill "$PID_slack" "$PID_text" "$PID_am" 2>/dev/null
done_testing
