#!/bin/sh
# The control socket under abuse: malformed and oversized requests, slow,
# silent and vanishing clients, and more clients than allowed.  Other
# clients must be served throughout and the daemon must never crash.
. "$(dirname "$0")/lib.sh"

ulimit -n 4096 2>/dev/null
write_config
export FTMON_MAX_CLIENTS=300 FTMON_IDLE_TIMEOUT_MS=2000
start_daemon
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
