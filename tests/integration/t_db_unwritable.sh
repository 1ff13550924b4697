#!/bin/sh
# A database the daemon cannot write is refused at start with one line
# naming the file and the cause (the file read-only to ftmond's user, or a
# -wal file it may not write), instead of "ready" and a failure at every
# write; and a write that fails at run time is reported with SQLite's own
# message, not "not an error" (the rollback after it used to reset it).
#
# Unwritable files need a user that file modes apply to: as root the daemon
# runs as nobody (setpriv or runuser); as another user, as that user.  The
# run-time failure is a trigger that refuses points (SQLite's RAISE): a real
# failed write inside the step's transaction with a known message, that
# works for root in CI without mounts or privileges, and is undone by
# dropping the trigger.
. "$(dirname "$0")/lib.sh"

sqlw() { sqlite3 -batch -cmd '.timeout 5000' "$DB" "$@"; }

# ---- refused at start ----
as_user=
owner=
if [ "$(id -u)" = 0 ]; then
	if id nobody >/dev/null 2>&1; then
		ng=$(id -g nobody)
		if setpriv --reuid=nobody --regid="$ng" --clear-groups true 2>/dev/null; then
			as_user="setpriv --reuid=nobody --regid=$ng --clear-groups"
		elif runuser -u nobody -- true 2>/dev/null; then
			as_user="runuser -u nobody --"
		fi
		owner=nobody
	fi
else
	as_user=env
	owner=$(id -un)
fi

ROOT_DB=$DB
ROOT_SOCK=$SOCK
if [ -n "$as_user" ]; then
	mkdir "$T/nb"
	DB="$T/nb/ftmon.db"
	SOCK="$T/nb/ftmon.sock"
	write_config
	start_daemon # creates and migrates the database
	stop_daemon
	is "$DAEMON_STATUS" "0" "a first run created the database"
	[ "$(id -u)" = 0 ] && chown -R "$owner" "$T/nb"
	chmod 0444 "$DB"

	timeout 20 $as_user "$FTMOND" -c "$CONF" >"$T/refused.log" 2>&1 </dev/null
	is "$?" "1" "read-only database file: ftmond exits 1"
	out=$(cat "$T/refused.log")
	like "$out" "$DB: cannot write the database: $DB is not writable \\(Permission denied; mode 0444" \
		"one line names the file and the cause"
	is "$(grep -c "cannot write the database" "$T/refused.log")" "1" "said once"
	is "$(grep -c "ready" "$T/refused.log")" "0" "and it never says ready"

	chmod 0644 "$DB"
	rm -f "$DB-wal" "$DB-shm" # the refused run's, mode 0444 like the file
	: >"$DB-wal"
	[ "$(id -u)" = 0 ] || chmod 0444 "$DB-wal" # root's file is foreign to nobody already
	timeout 20 $as_user "$FTMOND" -c "$CONF" >"$T/refused-wal.log" 2>&1 </dev/null
	is "$?" "1" "a -wal file it cannot write: ftmond exits 1"
	like "$(cat "$T/refused-wal.log")" "$DB: cannot write the database.*$DB-wal is not writable \\(Permission denied" \
		"the line names the -wal file"
	is "$(grep -c "ready" "$T/refused-wal.log")" "0" "and it never says ready"

	rm -f "$DB-wal" "$DB-shm"
	$as_user "$FTMOND" -c "$CONF" >"$T/ok.log" 2>&1 </dev/null &
	DAEMON_PID=$!
	wait_until 15 grep -q "ready" "$T/ok.log"
	ok $? "a database the user can write starts as before"
	stop_daemon
	is "$DAEMON_STATUS" "0" "and stops cleanly"
else
	diag "SKIP start checks: root without setpriv/runuser to nobody"
fi

# ---- a write that fails at run time ----
DB=$ROOT_DB
SOCK=$ROOT_SOCK
rm -f "$T/ftmond.log"
start_fakeapi
openai_config
fake POST /_fake/jobs '{"id": "ftjob-w1", "total_steps": 300, "steps_per_second": 25}' >/dev/null
start_daemon
wait_until 20 sh -c "[ \"\$(sqlite3 '$DB' 'SELECT count(*) FROM points' 2>/dev/null)\" -gt 0 ]"
ok $? "points are being stored"
sqlw "CREATE TRIGGER ftmon_test_fail BEFORE INSERT ON points
	BEGIN SELECT RAISE(ABORT, 'injected write failure'); END;"
wait_until 20 grep -q "storing failed" "$T/ftmond.log"
ok $? "the failing write is logged"
like "$(grep "storing failed" "$T/ftmond.log" | head -1)" "storing failed \\(.*\\): injected write failure; will retry" \
	"with SQLite's message"
is "$(grep -c "not an error" "$T/ftmond.log")" "0" "never 'not an error'"
# last_error is cleared by each request that succeeds and set again by the
# next failed write: wait for a moment it holds the failure.
status_has_failure() {
	jget "$(ctl --json status)" 'j["sources"][0]["last_error"] or ""' | grep -q "injected write failure"
}
wait_until 15 status_has_failure
ok $? "status shows the message too"
sqlw "DROP TRIGGER ftmon_test_fail"
wait_until 60 jobs_complete_in_db 1
ok $? "once writes work again the job completes"
check "stored points equal the truth" truthcheck
stop_daemon
is "$DAEMON_STATUS" "0" "SIGTERM exits 0"
done_testing
