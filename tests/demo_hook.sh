#!/bin/sh
# demo_hook.sh LOG: the README demo's notification hook.  ftmond runs it
# without a shell (an exec hook), the event's JSON on stdin and its main
# fields in FTMON_* variables; it appends one line per event to LOG, which
# the demo prints at the end.  A team's hook would post to chat instead.
what=${FTMON_ALERT_RULE:+alert $FTMON_ALERT_RULE: $FTMON_ALERT_MESSAGE}
printf '%s  %-16s %-28s %s\n' "$(date -u +%H:%M:%S)" "$FTMON_EVENT" "$FTMON_JOB" \
	"${what:-status $FTMON_JOB_STATUS}" >>"$1"
cat >/dev/null
