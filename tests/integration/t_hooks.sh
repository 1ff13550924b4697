#!/bin/sh
# Webhook deliveries are durable: a receiver that refuses the first two
# attempts of every event (503 with Retry-After: 1) still gets every event,
# across a SIGTERM restart and a kill -9 in the middle; each event ends
# `delivered` exactly once in the database; the receiver's Retry-After is
# honoured, across the restarts too; a headers_file's bearer token is sent
# and never logged.
. "$(dirname "$0")/lib.sh"

TOKEN=hook-secret-5c1e0b
start_recv() { # start_recv ARGS...: the webhook receiver, $RECV_URL
	rm -f "$T/recv.port"
	"$PYTHON3" "$HELPERS/hookrecv.py" --port-file "$T/recv.port" --log "$T/recv.jsonl" "$@" \
		>>"$T/recv.log" 2>&1 &
	RECV_PID=$!
	wait_until 10 test -s "$T/recv.port" || bail "hookrecv did not start"
	RECV_URL="http://127.0.0.1:$(cat "$T/recv.port")/hook"
}
# Summaries of the receiver's log, by a small Python program.
recv_py() {
	"$PYTHON3" -c "import json,sys
recs = [json.loads(l) for l in open('$T/recv.jsonl')]
$1" "$@"
}
recv_count() { recv_py 'print(len(recs))'; }
recv_count_ge() { [ "$(recv_count)" -ge "$1" ]; }
HOOK_TYPES="('job.discovered','job.status','job.finished','alert.fired','alert.resolved')"
all_delivered() {
	[ "$(sql "SELECT count(*) FROM deliveries WHERE hook = 'web' AND state = 'delivered'")" = \
		"$(sql "SELECT count(*) FROM events WHERE type IN $HOOK_TYPES")" ] &&
		[ "$(sql "SELECT count(*) FROM deliveries WHERE state != 'delivered'")" = 0 ]
}

start_fakeapi
start_recv --refuse 2 --retry-after 1
printf 'Authorization: Bearer %s\n' "$TOKEN" >"$T/hook.headers"
chmod 600 "$T/hook.headers"
openai_config "[hook web]
type = webhook
url = $RECV_URL
format = json
headers_file = $T/hook.headers
timeout = 5s"
for i in 1 2 3; do
	fake POST /_fake/jobs "{\"id\": \"ftjob-h$i\", \"total_steps\": $((20 * i)), \"steps_per_second\": 20}" >/dev/null
done
start_daemon -v

wait_until 20 recv_count_ge 3
ok $? "the receiver is being called (and refusing)"
date +%s.%N >>"$T/cuts" # attempts cut off here were never answered to ftmond
stop_daemon
is "$DAEMON_STATUS" "0" "SIGTERM in the middle of deliveries exits 0"
pending=$(sql "SELECT count(*) FROM deliveries WHERE state = 'pending'")
like "$pending" '^[1-9]' "deliveries are still pending at the stop ($pending)"
start_daemon -v
wait_until 20 recv_count_ge $(($(recv_count) + 3))
ok $? "after the restart the pending deliveries are attempted again"
date +%s.%N >>"$T/cuts"
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
DAEMON_PID=
start_daemon -v
wait_until 60 jobs_complete_in_db 3
ok $? "all jobs complete"
wait_until 60 all_delivered
ok $? "every event is delivered after a restart and a kill -9"

nev=$(sql "SELECT count(*) FROM events WHERE type IN $HOOK_TYPES")
like "$nev" '^([89]|[1-9][0-9]+)$' "the jobs made their events ($nev: discovered, status, finished)"
is "$(sql "SELECT count(*) FROM deliveries WHERE hook = 'web'")" "$nev" "one delivery row per event"
is "$(sql "SELECT count(DISTINCT event_id) FROM deliveries WHERE hook = 'web'")" "$nev" \
	"each event id once"
is "$(recv_py 'a = {}
for r in recs: a.setdefault(r["key"], []).append(r["status"])
print(sum(1 for v in a.values() if v[:2] != [503, 503] or 200 not in v))')" "0" \
	"the receiver refused each event twice, then accepted it"
# An attempt cut off by the stop or the kill reached the receiver but was
# never recorded: at most one per row.
is "$(sql "SELECT min(attempts) >= 2 AND max(attempts) = 3 FROM deliveries")" "1" \
	"each row records its three attempts (or two, when the first was cut off)"
ids=$(sql "SELECT event_id FROM deliveries ORDER BY event_id" | tr '\n' ' ')
is "$(recv_py 'print(" ".join(sorted({r["key"] for r in recs if r["status"] == 200})))') " "$ids" \
	"the receiver accepted exactly the stored event ids"
dups=$(recv_py 'print(sum(1 for r in recs if r.get("dup")))')
diag "accepted again after the stop or the kill (answer lost with the daemon): $dups"
like "$dups" '^[0-8]$' "re-sent only what was in flight at the two interruptions (<= 2 x concurrency)"
is "$(recv_py 'print(sum(1 for r in recs if r["body"] and json.loads(r["body"])["id"] != r["key"]))')" "0" \
	"the Idempotency-Key is the payload's id"
is "$(recv_py 'print(len({r["ctype"] for r in recs}), recs[0]["ctype"])')" "1 application/json" \
	"Content-Type: application/json"
# Retry-After: 1: no attempt came less than 1 s after a refusal of its event.
# (Pairs around a restart do not count: the refusal may never have reached
# ftmond.)
gap=$(recv_py '
cuts = [float(l) for l in open("'"$T/cuts"'")]
last, gaps = {}, []
for r in recs:
    k = r["key"]
    if k in last and last[k]["status"] != 200:
        if not any(last[k]["t"] < c < r["t"] for c in cuts):
            gaps.append(r["t"] - last[k]["t"])
    last[k] = r
print("%.3f %d" % (min(gaps), len(gaps)))')
diag "shortest gap after a refusal, in s, and how many gaps: $gap"
like "$gap" '^([1-9]|[1-9][0-9])\.[0-9]+ [1-9]' "Retry-After: 1 is honoured, across the restarts too"
is "$(recv_py 'print(sum(1 for r in recs if r["auth"] != "Bearer '"$TOKEN"'"))')" "0" \
	"headers_file: every request carried the bearer token"
is "$(grep -c "$TOKEN" "$T/ftmond.log")" "0" "the token is nowhere in the debug log"
like "$(grep -c 'Authorization: \[redacted\]' "$T/ftmond.log")" '^[1-9]' \
	"the header is logged redacted"
finished=$(sql "SELECT payload FROM deliveries WHERE event = 'job.finished' LIMIT 1")
is "$(jget "$finished" 'j["job"]["status"], j["event"], j["job"]["name"].startswith("openai/ftjob-h")')" \
	"succeeded job.finished True" "a job.finished payload names the job and its final status"
st=$(ctl --json status)
is "$(jget "$st" '[(h["name"], h["type"], h["pending"], h["failed"], h["delivered"]) for h in j["hooks"]]')" \
	"[('web', 'webhook', 0, 0, $nev)]" "status: per-hook counts"
is "$(sql "PRAGMA integrity_check")" "ok" "the database is intact"
stop_daemon
is "$DAEMON_STATUS" "0" "a final SIGTERM exits 0"
kill "$RECV_PID" 2>/dev/null
done_testing
