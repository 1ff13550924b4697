#!/bin/sh
# Descriptors: the soft RLIMIT_NOFILE is raised to the hard one at start;
# out of descriptors, every client over the limit still gets its `busy`
# line (none is closed without a word), the condition is logged once, and a
# poll that cannot open a connection says "out of file descriptors" instead
# of blaming the API.
. "$(dirname "$0")/lib.sh"

command -v prlimit >/dev/null || skip_all "no prlimit"
start_fakeapi
fake POST /_fake/jobs '{"id": "ftjob-fd1", "total_steps": 100000, "steps_per_second": 5}' >/dev/null
OPENAI_POLL=200ms openai_config

# The soft limit goes up to the hard one.
FTMOND_WRAPPER="prlimit --nofile=64:256 --"
start_daemon
like "$(grep 'Max open files' "/proc/$DAEMON_PID/limits")" '^Max open files +256 +256 ' \
	"the soft descriptor limit is raised to the hard one"
like "$(cat "$T/ftmond.log")" 'descriptor limit raised from 64 to 256' "and that is logged (debug)"
stop_daemon

# 64 descriptors, hard: the 200 clients below cannot all be served.
FTMON_MAX_CLIENTS=1000
export FTMON_MAX_CLIENTS
FTMOND_WRAPPER="prlimit --nofile=64:64 --"
start_daemon
wait_until 20 sh -c "sqlite3 '$DB' 'SELECT count(*) FROM points' | grep -qv '^0$'"
ok $? "polling works before the flood"
"$PYTHON3" "$HELPERS/fdflood.py" "$SOCK" 200 "$T/release" >"$T/flood.out" 2>"$T/flood.err" &
FLOOD_PID=$!
wait_until 20 test -s "$T/flood.out"
ok $? "every flood client was answered or closed within the time"
flood=$(head -n 1 "$T/flood.out")
diag "flood: $flood"
# Force the next poll onto a new connection while the descriptors are
# spent: the truncated answer closes the connection, the flood takes its
# descriptor, and the source's retry (100 ms or more later) has none.
fake POST /_fake/fault '{"match": "", "kind": "truncated", "times": 1}' >/dev/null
wait_until 20 grep -q 'out of file descriptors: cannot open a connection' "$T/ftmond.log"
ok $? "a poll that cannot open a socket says out of file descriptors"
touch "$T/release"
wait "$FLOOD_PID"

is "$(jget "$flood" 'j["closed"] + j["silent"]')" "0" "no client is closed without a line or left hanging"
is "$(jget "$flood" 'j["served"] + j["busy"]')" "200" "every client is served or refused as busy"
like "$(jget "$flood" 'j["busy"]')" '^[1-9]' "clients over the descriptor limit are refused"
is "$(jget "$flood" 'sorted(j["messages"])')" \
	"['out of file descriptors; try again later']" "and the busy line says why"
is "$(grep -c 'control: out of file descriptors' "$T/ftmond.log")" "1" \
	"the condition is logged once for the episode"
is "$(grep -c "Couldn't connect to server" "$T/ftmond.log")" "0" "no poll blames the API for it"

# Served again once the clients are gone; the source recovers.
wait_until 10 sh -c "'$FTMONCTL' -s '$SOCK' --json status >'$T/status.json'"
ok $? "status is answered after the flood"
last=$(jget "$(cat "$T/status.json")" 'j["sources"][0]["last_error"]')
diag "last_error after the flood: $last"
# A poll that has succeeded since clears it; otherwise it must name the cause.
like "$last" '^(None|.*out of file descriptors.*)$' \
	"last_error names the descriptors (or is cleared by a later poll)"
n1=$(sql 'SELECT count(*) FROM points')
wait_until 20 sh -c "test \$(sqlite3 '$DB' 'SELECT count(*) FROM points') -gt $n1"
ok $? "polling goes on after the flood"
stop_daemon
is "$DAEMON_STATUS" "0" "the daemon stops cleanly"
done_testing
