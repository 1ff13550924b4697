#!/bin/sh
# The daemon's life cycle: readiness, the read-only commands through
# ftmonctl, reload (good and broken, SIGHUP and command), permissions,
# readers beside the writer, schema versions, and a clean SIGTERM.
. "$(dirname "$0")/lib.sh"

write_config "socket_mode = 0666
[source push]
type = push"
start_daemon
ok 0 "ftmond reports READY=1 on a NOTIFY_SOCKET"
like "$(cat "$T/notify.log")" 'READY=1\|STATUS=[^|]*sources' "STATUS= one-line summary sent with READY=1"

# ping and status through ftmonctl
is "$(ctl --json ping 2>&1)" '"pong"' "ftmonctl ping answers pong"
st=$(ctl --json status)
is "$(jget "$st" 'j["database"]["path"]')" "$DB" "status names the database"
is "$(jget "$st" 'j["pid"]')" "$DAEMON_PID" "status names the daemon pid"
is "$(jget "$st" '[s["name"] for s in j["sources"]]')" "['push']" "status lists the configured source"
is "$(jget "$st" 'j["config_error"]')" "None" "no config error after start"
is "$(jget "$st" 'sorted(j["database"]["checkpoints"])')" \
	"['backstops', 'errors', 'frames', 'last_error', 'last_us', 'runs', 'tails', 'wal_frames']" \
	"status shows the WAL checkpoints"
out=$(ctl status)
like "$out" 'push' "human status output mentions the source"
is "$(stat -c %a "$SOCK")" "666" "socket created with socket_mode"

# jobs, job, metrics, events, alerts over an empty store and seeded rows
is "$(ctl --json jobs)" "[]" "no jobs yet"
sqlite3 "$DB" "INSERT INTO jobs (source, external_id, status, discovered_at, updated_at, last_step, total_steps)
	VALUES ('push', 'run-alpha', 'running', strftime('%s'), strftime('%s'), 20, 100);
INSERT INTO metric_names (name) VALUES ('train_loss');
INSERT INTO points VALUES (1, 1, 10, 2.5, 0), (1, 1, 20, 2.0, 0);
INSERT INTO latest_metrics VALUES (1, 1, 20, 2.0);
INSERT INTO events (job_id, type, level, message, created_at) VALUES (1, 'message', 'info', 'hello', 1);"
j=$(ctl --json jobs)
is "$(jget "$j" '[(x["name"], x["status"], x["step"], x["metrics"]) for x in j]')" \
	"[('push/run-alpha', 'running', 20, {'train_loss': 2})]" "jobs shows a row written by another process"
is "$(jget "$(ctl --json show run-al)" 'j["id"]')" "run-alpha" "show accepts a unique prefix"
is "$(jget "$(ctl --json show push/run-alpha)" 'j["total_steps"]')" "100" "show accepts SOURCE/ID"
is "$(jget "$(ctl --json metrics run-alpha)" 'j == {"train_loss": [[10, 2.5], [20, 2.0]]}')" "True" "metrics returns the points"
is "$(jget "$(ctl --json events run-alpha)" '[e["message"] for e in j]')" "['hello']" "events returns the event"
is "$(ctl --json alerts)" "[]" "no alerts"
ctl show nosuchjob >"$T/out" 2>"$T/err"
rc=$?
is "$rc" "1" "unknown job exits 1"
like "$(cat "$T/err")" '^ftmonctl: .*not_found' "unknown job: one line naming not_found"
is "$(wc -l <"$T/err" | tr -d ' ')" "1" "unknown job: exactly one line on stderr"

# the database opens in sqlite3 (and Python) while the daemon runs
is "$(sqlite3 "$DB" 'PRAGMA journal_mode')" "wal" "database is in WAL mode"
is "$(sqlite3 "$DB" "SELECT job, metric, step, value FROM metric_points ORDER BY step")" \
	"run-alpha|train_loss|10|2.5
run-alpha|train_loss|20|2.0" "metric_points view readable while the daemon runs"
is "$("$PYTHON3" -c "import sqlite3; print(sqlite3.connect('$DB').execute('select count(*) from jobs').fetchone()[0])")" \
	"1" "python reads the database while the daemon runs"

# mutating commands need root or admin_group: run the client as nobody
if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$FTMONCTL" -s "$SOCK" reload \
		>"$T/out" 2>"$T/err"
	is "$?" "1" "reload as nobody is refused"
	like "$(cat "$T/err")" 'permission_denied' "refusal names permission_denied"
	is "$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$FTMONCTL" -s "$SOCK" --json ping)" \
		'"pong"' "read-only command as nobody works"
	is "$(grep -c 'configuration reloaded' "$T/ftmond.log")" "0" "the refused reload did nothing"
else
	ok 0 "# SKIP not root: cannot run the client as nobody"
fi

# reload through the command, then SIGHUP with a broken config
# The notify logger writes each datagram after the daemon sent it, so the
# reply to reload can arrive first: wait for the lines after this point.
notify_before=$(wc -l <"$T/notify.log")
check "reload command succeeds" ctl reload
reload_notified() {
	tail -n +"$((notify_before + 1))" "$T/notify.log" | tr '\n' ' ' | grep -Eq 'RELOADING=1.*READY=1'
}
wait_until 10 reload_notified
ok $? "RELOADING=1 then READY=1 around reload"
cp "$CONF" "$T/good.conf"
printf '[source push]\ntype = push\npoll_interval = soon\n[bogus]\n' >>"$CONF"
kill -HUP "$DAEMON_PID"
wait_until 10 grep -q 'reload failed' "$T/ftmond.log"
ok $? "SIGHUP with a broken config logs the failure"
like "$(grep -A3 'reload failed' "$T/ftmond.log")" 'ftmon.conf:[0-9]+: ' "the log names file:line"
st=$(ctl --json status)
like "$(jget "$st" 'j["config_error"]')" 'ftmon.conf:[0-9]+:' "status shows why the reload failed"
is "$(jget "$st" '[s["name"] for s in j["sources"]]')" "['push']" "the old configuration stays in force"
ctl reload >"$T/out" 2>"$T/err"
is "$?" "1" "reload command with a broken config exits 1"
like "$(cat "$T/err")" 'config_error' "reload command reply names config_error"
cp "$T/good.conf" "$CONF"
check "reload with the config fixed succeeds" ctl reload
is "$(jget "$(ctl --json status)" 'j["config_error"]')" "None" "config_error cleared after a good reload"

# SIGTERM: exit 0, socket removed, STOPPING=1 sent
stop_daemon TERM
is "$DAEMON_STATUS" "0" "SIGTERM exits 0"
ok "$(test ! -e "$SOCK"; echo $?)" "socket file removed on exit"
wait_until 10 grep -q 'STOPPING=1' "$T/notify.log" # logged after it was sent
ok $? "STOPPING=1 sent"
if grep -q 'open handles at exit' "$T/ftmond.log"; then ok 1 "event loop closed cleanly"; else ok 0 "event loop closed cleanly"; fi

# a stale socket file from a crash is replaced; a live daemon is not displaced
start_daemon
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
DAEMON_PID=
ok "$(test -S "$SOCK"; echo $?)" "kill -9 leaves a stale socket behind"
start_daemon
is "$(ctl --json ping)" '"pong"' "restart replaces the stale socket"
"$FTMOND" -c "$CONF" >"$T/second.out" 2>&1
is "$?" "1" "a second ftmond on the same socket refuses to start"
like "$(cat "$T/second.out")" 'already listening' "and says another ftmond is listening"
stop_daemon

# schema: a database from a newer ftmon is refused, untouched
sqlite3 "$DB" 'PRAGMA user_version = 99'
"$FTMOND" -c "$CONF" >"$T/newer.out" 2>&1
is "$?" "1" "a newer schema version is refused"
like "$(cat "$T/newer.out")" 'schema version 99 is newer' "the refusal says why"
is "$(sqlite3 "$DB" 'PRAGMA user_version')" "99" "the newer database is left untouched"
rm -f "$DB" "$DB-wal" "$DB-shm"

# an unopenable database is a clear error
sed -i "s|^database = .*|database = $T/no/such/dir/x.db|" "$CONF"
"$FTMOND" -c "$CONF" >"$T/nodb.out" 2>&1
is "$?" "1" "an unopenable database stops the start"
like "$(cat "$T/nodb.out")" 'cannot open database' "and says so"

done_testing
