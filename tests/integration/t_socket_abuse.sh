#!/bin/sh
# The control socket under abuse: malformed and oversized requests, slow,
# silent and vanishing clients, and more clients than allowed.  Other
# clients must be served throughout and the daemon must never crash.
. "$(dirname "$0")/lib.sh"

ulimit -n 4096 2>/dev/null
write_config "socket_mode = 0666"
export FTMON_MAX_CLIENTS=300 FTMON_IDLE_TIMEOUT_MS=2000
start_daemon
# A job with 200,000 points makes `metrics` expensive, for the fairness check.
sqlite3 "$DB" "INSERT INTO jobs (source, external_id, status, discovered_at, updated_at)
	VALUES ('push', 'big', 'running', 0, 0);
INSERT INTO metric_names (name) VALUES ('train_loss');
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 200000)
INSERT INTO points SELECT 1, 1, i, 1.0 / i, 0 FROM s;
INSERT INTO latest_metrics VALUES (1, 1, 200000, 0.000005);"
"$PYTHON3" "$HELPERS/sockabuse.py" "$SOCK" 300 2000 >"$T/abuse.tap" 2>"$T/abuse.err"
# Renumber the helper's TAP lines into ours.
while IFS= read -r line; do
	case "$line" in
	"ok "*) ok 0 "${line#ok * - }" ;;
	"not ok "*) ok 1 "${line#not ok * - }" ;;
	*) echo "$line" ;;
	esac
done <"$T/abuse.tap"
[ -s "$T/abuse.err" ] && sed 's/^/# /' "$T/abuse.err"
ok "$(kill -0 "$DAEMON_PID"; echo $?)" "ftmond is still running"
is "$(ctl --json ping)" '"pong"' "and still answers"
stop_daemon
is "$DAEMON_STATUS" "0" "and exits 0 on SIGTERM afterwards"
done_testing
