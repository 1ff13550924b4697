#!/bin/sh
# A connection reset is reported as what it is, also when the reset comes
# with part of the body and libcurl only sees an error event on the socket
# ("select/poll returned error"): the socket's own error names it.
. "$(dirname "$0")/lib.sh"

start_fakeapi
fake POST /_fake/jobs '{"id": "ftjob-r1", "total_steps": 100000, "steps_per_second": 5}' >/dev/null
openai_config
start_daemon
wait_until 20 sh -c "sqlite3 '$DB' 'SELECT count(*) FROM points' | grep -qv '^0$'"
ok $? "polling works before the resets"

# Every request from now on: headers, half the body, then RST.
fake POST /_fake/fault '{"match": "", "kind": "reset_body", "times": 100000}' >/dev/null
wait_requests 6 total
ok $? "the daemon keeps polling through the resets"
# How much of the body was read before the reset is a matter of timing.
wait_until 10 grep -q 'connection reset by peer (' "$T/ftmond.log"
ok $? "the log names the reset and how far the answer had come"
is "$(grep -c 'select/poll returned error' "$T/ftmond.log")" "0" \
	"no failure is reported as select/poll returned error"
# Every request fails now, so nothing clears the source's last error.
like "$(jget "$(ctl --json status)" 'j["sources"][0]["last_error"]')" \
	'^[^;]*: connection reset by peer \((while reading the (headers|body)|before any of the response was read)\)' \
	"status names the reset"

# A reset before any answer.
fake POST /_fake/clear_faults >/dev/null
fake POST /_fake/fault '{"match": "", "kind": "reset", "times": 100000}' >/dev/null
from=$(($(wc -l <"$T/ftmond.log") + 1))
new_lines_say() { tail -n +"$from" "$T/ftmond.log" | grep -q "$1"; }
wait_until 20 new_lines_say 'connection reset by peer (before any of the response was read)'
ok $? "a reset before any answer is named too"
is "$(grep -c 'select/poll returned error' "$T/ftmond.log")" "0" \
	"still no select/poll returned error"

fake POST /_fake/clear_faults >/dev/null
n1=$(sql 'SELECT count(*) FROM points')
wait_until 20 sh -c "test \$(sqlite3 '$DB' 'SELECT count(*) FROM points') -gt $n1"
ok $? "polling recovers once the resets stop"
stop_daemon
done_testing
