#!/bin/sh
# exec hooks: the payload on stdin and FTMON_* in a clean environment (the
# daemon's API key, given through api_key_env, is not in the hook's
# /proc/PID/environ); descriptors 0-2 only and the soft RLIMIT_NOFILE back
# at 1024; no shell ever runs (a job named $(touch pwned), seeded in the
# database, and shell syntax in the command line create nothing); a hook
# that hangs is killed with its children at its timeout and retried; a hook
# that keeps failing ends `failed` after max_attempts, visible in status;
# acked alerts are not sent; a reload switches to the new set of hooks and
# leaves a removed hook's pending deliveries alone.
. "$(dirname "$0")/lib.sh"

KEY=sk-envkey-3f9a77c1
start_fakeapi --key "$KEY"
mkdir -p "$T/exec" "$T/work"
cat >"$T/record.sh" <<EOF
#!/bin/sh
# One file set per run: stdin, env, /proc environ, fds, nofile.
d="$T/exec/\$FTMON_EVENT_ID"
cat >"\$d.stdin"
env >"\$d.env"
tr '\\0' '\\n' </proc/\$\$/environ >"\$d.environ"
ls /proc/self/fd | sort -n | tr '\\n' ' ' >"\$d.fds"
ulimit -n >"\$d.nofile"
echo "recorded \$FTMON_EVENT"
EOF
cat >"$T/hang.sh" <<EOF
#!/bin/sh
# First run: start a child that would outlive us, then hang.  Later: done.
[ "\$FTMON_EVENT" = job.finished ] || exit 0
if [ ! -e "$T/hang.once" ]; then
	: >"$T/hang.once"
	sleep 300 &
	echo \$! >"$T/hang.child"
	wait
fi
exit 0
EOF
chmod +x "$T/record.sh" "$T/hang.sh"
write_config "[source openai]
type = openai
base_url = $FAKE_URL
api_key_env = FTMON_TEST_KEY
poll_interval = 300ms
[hook rec]
type = exec
command = $T/record.sh '\$(touch $T/work/pwned1)' \"\`touch $T/work/pwned2\`\" ;touch $T/work/pwned3
[hook hang]
type = exec
command = $T/hang.sh
events = job.finished
timeout = 3s
[hook bad]
type = exec
command = /bin/false
events = job.discovered
max_attempts = 2
[hook flaky]
type = exec
command = /bin/false
events = job.discovered
max_attempts = 50"
fake POST /_fake/jobs '{"id": "ftjob-x1", "total_steps": 20, "steps_per_second": 20}' >/dev/null
cd "$T/work" || bail "no work dir"
FTMON_TEST_KEY=$KEY
export FTMON_TEST_KEY
start_daemon
# A job whose name is shell syntax, written as a source would have: its
# event is above the notifier's mark, picked up by the next step.
now=$(date +%s)
# Two alerts of it as the rules engine writes them (contract 3), one acked.
# One transaction, waiting for the daemon's write lock (sql() would fail
# with "database is locked" if a step holds it).
sqlite3 -batch -cmd ".timeout 10000" "$DB" "BEGIN IMMEDIATE;
	INSERT INTO jobs (id, source, external_id, status, discovered_at, updated_at, tracked)
	VALUES (1000, 'seed', '\$(touch $T/work/pwned)', 'running', $now, $now, 0);
	INSERT INTO events (job_id, type, data, created_at)
	VALUES (1000, 'job.discovered', '{\"status\":\"running\"}', $now);
	INSERT INTO alerts (id, job_id, source, job, rule, metric, state, step, message, fired_at, acked)
	VALUES (500, 1000, 'seed', 'x', 'nan', 'train_loss', 'firing', 10, 'train_loss is NaN \`id\`', $now, 0),
	       (501, 1000, 'seed', 'x', 'spike', 'train_loss', 'firing', 11, 'spike', $now, 1);
	INSERT INTO events (job_id, type, data, created_at) VALUES
	(1000, 'alert.fired', '{\"alert_id\":500,\"rule\":\"nan\",\"metric\":\"train_loss\",\"step\":10}', $now),
	(1000, 'alert.fired', '{\"alert_id\":501,\"rule\":\"spike\",\"metric\":\"train_loss\",\"step\":11}', $now);
	COMMIT;" || bail "cannot seed the database"
fake POST /_fake/jobs '{"id": "ftjob-x2", "total_steps": 20, "steps_per_second": 20}' >/dev/null
# The hanging hook (3 s timeout) holds up no other hook.
wait_until 20 test -s "$T/hang.child"
ok $? "the hanging hook hangs"
child=$(cat "$T/hang.child" 2>/dev/null)
rec_fin_while_hanging() {
	kill -0 "$child" &&
		[ "$(sql "SELECT count(*) FROM deliveries WHERE hook = 'rec' AND event = 'job.finished' AND state = 'delivered'")" -ge 1 ]
}
check "while it hangs, the other hook's job.finished delivery is done" \
	wait_until 20 rec_fin_while_hanging
wait_until 30 jobs_complete_in_db 2
ok $? "the jobs complete"
rec_done() {
	[ "$(sql "SELECT count(*) FROM deliveries WHERE hook = 'rec' AND state = 'delivered'")" = \
		$(($(sql "SELECT count(*) FROM events WHERE type LIKE 'job.%' OR type = 'alert.fired'") - 1)) ]
}
wait_until 30 rec_done
ok $? "the recording hook got every event (but the acked alert's)"

# The seeded job's run.
seeded=$(sql "SELECT event_id FROM deliveries WHERE hook = 'rec' AND event = 'job.discovered' AND payload LIKE '%seed/%'")
like "$seeded" '^ev_' "the seeded job's event got a delivery"
is "$(grep '^FTMON_JOB=' "$T/exec/$seeded.env")" "FTMON_JOB=seed/\$(touch $T/work/pwned)" \
	"FTMON_JOB holds the name as text"
is "$(jget "$(cat "$T/exec/$seeded.stdin")" 'j["job"]["name"], j["event"]')" \
	"seed/\$(touch $T/work/pwned) job.discovered" "the payload on stdin names it"
is "$(ls "$T/work" | tr '\n' ' ')" "" "no shell ran: nothing was touched"

# The alerts: the live one sent with its row, the acked one skipped.
al=$(sql "SELECT event_id FROM deliveries WHERE hook = 'rec' AND alert_id = 500")
is "$(grep -e '^FTMON_ALERT_RULE=' -e '^FTMON_ALERT_ID=' -e '^FTMON_ALERT_MESSAGE=' "$T/exec/$al.env" | sort | tr '\n' ' ')" \
	"FTMON_ALERT_ID=500 FTMON_ALERT_MESSAGE=train_loss is NaN \`id\` FTMON_ALERT_RULE=nan " \
	"an alert event's hook gets the alert row's fields"
is "$(jget "$(cat "$T/exec/$al.stdin")" 'j["alert"]["id"], j["alert"]["rule"], j["alert"]["step"], j["alert"]["state"]')" \
	"500 nan 10 firing" "and the alert in its payload"
is "$(sql "SELECT state, attempts, last_error FROM deliveries WHERE hook = 'rec' AND alert_id = 501")" \
	"failed|0|skipped: alert 501 acknowledged" "an acked alert is not sent: failed, 0 attempts, skipped"

# A real job's finished event.
fin=$(sql "SELECT event_id FROM deliveries WHERE hook = 'rec' AND event = 'job.finished' LIMIT 1")
envf="$T/exec/$fin.env"
is "$(grep -c '^FTMON_EVENT=job.finished$' "$envf")" "1" "FTMON_EVENT"
is "$(grep -c '^FTMON_JOB_STATUS=succeeded$' "$envf")" "1" "FTMON_JOB_STATUS"
like "$(grep '^FTMON_MESSAGE=' "$envf")" "finished: succeeded" "FTMON_MESSAGE: the summary"
is "$(jget "$(cat "$T/exec/$fin.stdin")" 'j["id"], j["job"]["status"]')" "$fin succeeded" \
	"the payload on stdin"
is "$(cut -d= -f1 "$envf" | grep -v -e '^FTMON_' -e '^PATH$' -e '^LANG$' -e '^HOME$' -e '^PWD$' | tr '\n' ' ')" \
	"" "the environment is FTMON_*, PATH, LANG, HOME (and the shell's PWD)"
is "$(grep -c "$KEY" "$T/exec/$fin.environ")" "0" "/proc/PID/environ holds no API key"
is "$(grep -c FTMON_TEST_KEY "$T/exec/$fin.environ")" "0" "nor the variable that held it"
is "$(cat "$T/exec/$fin.fds")" "0 1 2 3 " "descriptors 0-2 only (3 is ls reading /proc/self/fd)"
is "$(cat "$T/exec/$fin.nofile")" "1024" "the soft RLIMIT_NOFILE is 1024 again"
like "$(grep -c 'said: recorded job' "$T/ftmond.log")" '^[1-9]' "the hook's output is in the log"

# The hanging hook: killed with its child at the timeout, then retried.
hang_done() {
	[ "$(sql "SELECT count(*) FROM deliveries WHERE hook = 'hang' AND state = 'delivered'")" = 2 ]
}
wait_until 30 hang_done
ok $? "the hanging hook's deliveries end delivered"
like "$child" '^[0-9]+$' "the hanging hook started a child ($child)"
gone() { ! kill -0 "$1" 2>/dev/null; }
wait_until 10 gone "$child"
ok $? "its child was killed with it"
is "$(sql "SELECT max(attempts) FROM deliveries WHERE hook = 'hang'")" "2" "retried once"
like "$(grep 'hook hang' "$T/ftmond.log")" "timed out after 3000 ms; process group killed" \
	"the timeout is logged"

# The failing hook: failed after max_attempts, in status.
bad_done() {
	[ "$(sql "SELECT count(*) FROM deliveries WHERE hook = 'bad' AND state = 'failed'")" = 3 ]
}
wait_until 30 bad_done
ok $? "the failing hook's deliveries end failed"
is "$(sql "SELECT DISTINCT attempts || ' ' || last_error FROM deliveries WHERE hook = 'bad'")" \
	"2 exit status 1" "after max_attempts = 2, with the reason"
st=$(ctl --json status)
is "$(jget "$st" '[(h["name"], h["failed"], h["pending"], h["last_error"]) for h in j["hooks"] if h["name"] == "bad"]')" \
	"[('bad', 3, 0, 'exit status 1')]" "status shows the failed deliveries"
is "$(jget "$st" '[(h["skipped"], h["failed"]) for h in j["hooks"] if h["name"] == "rec"]')" \
	"[(1, 0)]" "and the skipped one apart from failures"
# Reload: flaky is removed (its pending rows stay pending, untouched),
# late is added and gets the next events.
like "$(sql "SELECT count(*) FROM deliveries WHERE hook = 'flaky' AND state = 'pending'")" '^[1-9]' \
	"flaky has pending deliveries before the reload"
sed -i -e '/^\[hook flaky\]/,$d' "$CONF"
printf '[hook late]\ntype = exec\ncommand = %s\nevents = job.discovered\n' "$T/record.sh" >>"$CONF"
check "reload" ctl reload
fake POST /_fake/jobs '{"id": "ftjob-x3", "total_steps": 10, "steps_per_second": 20}' >/dev/null
late_done() {
	[ "$(sql "SELECT count(*) FROM deliveries WHERE hook = 'late' AND state = 'delivered'")" = "$1" ]
}
wait_until 30 late_done 1
ok $? "a hook added by a reload gets the next event"
# An attempt of flaky's in flight at the reload has ended by now; from here
# on nothing may touch its rows.
flaky_before=$(sql "SELECT group_concat(attempts || ' ' || next_attempt_at) FROM deliveries WHERE hook = 'flaky'")
fake POST /_fake/jobs '{"id": "ftjob-x4", "total_steps": 10, "steps_per_second": 20}' >/dev/null
wait_until 30 late_done 2
ok $? "and the one after"
is "$(sql "SELECT count(*) FROM deliveries WHERE hook = 'flaky' AND event_id IN (SELECT event_id FROM deliveries WHERE hook = 'late')")" \
	"0" "the removed hook gets none"
is "$(sql "SELECT group_concat(attempts || ' ' || next_attempt_at) FROM deliveries WHERE hook = 'flaky'")" \
	"$flaky_before" "its pending deliveries stay as they were"
is "$(jget "$(ctl --json status)" 'sorted(h["name"] for h in j["hooks"])')" \
	"['bad', 'hang', 'late', 'rec']" "status lists the hooks of the new configuration"
stop_daemon
is "$DAEMON_STATUS" "0" "SIGTERM exits 0"
done_testing
