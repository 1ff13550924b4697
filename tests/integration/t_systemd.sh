#!/bin/sh
# systemd integration: socket activation through sd_listen_fds, the
# watchdog ping from the loop, journald priority prefixes, and the unit
# files' own checks.
. "$(dirname "$0")/lib.sh"

write_config

# Socket activation: systemd-socket-activate binds the socket and passes it.
if command -v systemd-socket-activate >/dev/null 2>&1; then
	"$PYTHON3" "$HELPERS/notifywait.py" "$T/notify.sock" --keep --log "$T/notify.log" \
		>/dev/null 2>&1 &
	NOTIFY_PID=$!
	wait_until 10 test -S "$T/notify.sock"
	systemd-socket-activate -l "$SOCK" --fdname=control \
		-E NOTIFY_SOCKET="$T/notify.sock" -E WATCHDOG_USEC=400000 \
		"$FTMOND" -c "$CONF" >>"$T/ftmond.log" 2>&1 &
	DAEMON_PID=$!
	wait_until 10 test -S "$SOCK"
	# The daemon itself starts on the first connection.
	is "$(ctl --json ping)" '"pong"' "ping through a socket passed by systemd-socket-activate"
	wait_until 10 grep -q 'READY=1' "$T/notify.log"
	ok $? "READY=1 after socket activation"
	like "$(cat "$T/ftmond.log")" 'control socket inherited from systemd' "the daemon used the passed socket"
	wait_until 5 grep -q 'WATCHDOG=1' "$T/notify.log"
	ok $? "WATCHDOG=1 pings arrive when WATCHDOG_USEC is set"
	# A rate: time five more pings.  Half of WATCHDOG_USEC is 200 ms, so
	# they take about 1 s; 2 s allows 0.4 s a ping (3 pings in 1 s did 0.5).
	pings_at_least() { [ "$(grep -c 'WATCHDOG=1' "$T/notify.log")" -ge "$1" ]; }
	w1=$(grep -c 'WATCHDOG=1' "$T/notify.log")
	start=$(now_ms)
	wait_until 10 pings_at_least $((w1 + 5))
	ok $? "the watchdog pings go on"
	took=$(($(now_ms) - start))
	diag "five watchdog pings took $took ms"
	is "$(test "$took" -le 2000 && echo yes)" "yes" \
		"the watchdog is pinged about every half interval"
	stop_daemon
	is "$DAEMON_STATUS" "0" "a socket-activated daemon exits 0 on SIGTERM"
	kill "$NOTIFY_PID" 2>/dev/null
	NOTIFY_PID=
else
	ok 0 "# SKIP systemd-socket-activate not installed"
fi

# journald: with JOURNAL_STREAM set, lines carry <N> priority prefixes.
rm -f "$SOCK"
JOURNAL_STREAM=8:12345 "$FTMOND" -c "$CONF" >"$T/journal.out" 2>&1 &
pid=$!
wait_until 10 test -S "$SOCK"
kill -TERM "$pid"
wait "$pid"
like "$(head -n 1 "$T/journal.out")" '^<6>ftmond 0' "journal mode: <6> prefix on info lines"
"$FTMOND" -c "$CONF" >"$T/plain.out" 2>&1 &
pid=$!
wait_until 10 test -S "$SOCK"
kill -TERM "$pid"
wait "$pid"
like "$(head -n 1 "$T/plain.out")" '^ftmond: info: ' "plain mode without JOURNAL_STREAM"

# The unit files: verify the syntax and the hardening figure.
units="$top_srcdir/systemd"
if command -v systemd-analyze >/dev/null 2>&1; then
	exposure=$(systemd-analyze security --offline=true --no-pager "$units/ftmond.service" 2>/dev/null |
		sed -n 's/.*Overall exposure level for ftmond.service: \([0-9.]*\).*/\1/p')
	if [ -n "$exposure" ]; then
		diag "systemd-analyze security exposure: $exposure"
		is "$(awk "BEGIN { print ($exposure <= 2.0) }")" "1" \
			"ftmond.service exposure $exposure is 2.0 or better"
	else
		ok 0 "# SKIP this systemd-analyze cannot rate units offline"
	fi
	for u in ftmond.service ftmond.socket; do
		like "$(grep -E '^(Type|ListenStream|FileDescriptorName|WatchdogSec)=' "$units/$u" | tr '\n' ' ')" \
			'(Type=notify.*WatchdogSec=|ListenStream=/run/ftmon/ftmon.sock.*FileDescriptorName=control)' \
			"$u has the notify/socket settings"
	done
else
	ok 0 "# SKIP systemd-analyze not installed"
fi
done_testing
