#!/bin/sh
# Secrets and authorisation: the API key never shows in logs (debug level),
# the database, socket replies or the process list; a world-readable key
# file draws a warning; 401 marks the source unauthorised without hammering
# and a fixed key plus reload resumes it with nothing lost.
. "$(dirname "$0")/lib.sh"

KEY=sk-supersecret-4f1c9a
start_fakeapi --key "$KEY"
printf '%s\n' "$KEY" >"$T/api.key"
chmod 644 "$T/api.key"
openai_config
fake POST /_fake/jobs '{"id": "ftjob-a1", "total_steps": 40, "steps_per_second": 40}' >/dev/null
start_daemon
like "$(cat "$T/ftmond.log")" 'api.key is readable by every user' "a world-readable key file draws a warning"
wait_until 30 jobs_complete_in_db 1
ok $? "the job completes with the key from the file"

# The key appears nowhere.
leaks=0
grep -q "$KEY" "$T/ftmond.log" && { diag "key in the log"; leaks=1; }
sqlite3 "$DB" .dump | grep -q "$KEY" && { diag "key in the database"; leaks=1; }
for c in status jobs "show ftjob-a1" "events ftjob-a1"; do
	# shellcheck disable=SC2086
	ctl --json $c | grep -q "$KEY" && { diag "key in '$c' reply"; leaks=1; }
done
tr '\0' ' ' <"/proc/$DAEMON_PID/cmdline" | grep -q "$KEY" && { diag "key in cmdline"; leaks=1; }
ok "$leaks" "the key is not in the debug log, the database, replies or the command line"
like "$(grep -c 'Authorization: \[redacted\]' "$T/ftmond.log")" '^[1-9]' "curl's debug output shows the header redacted"

# Rotate the key at the API: 401 everywhere.
chmod 600 "$T/api.key"
fake POST /_fake/key '{"key": "sk-rotated-77"}' >/dev/null
fake POST /_fake/jobs '{"id": "ftjob-a2", "total_steps": 40, "steps_per_second": 40}' >/dev/null
wait_until 10 sh -c "$FTMONCTL -s '$SOCK' --json status | grep -q '\"health\":\"unauthorized\"'"
ok $? "status shows the source unauthorized"
# Requests already in flight when the first 401 came are answered (401)
# and end; once none is in flight the source is parked.
source_quiet() { [ "$(jget "$(ctl --json status)" 'j["sources"][0]["inflight"]')" = 0 ]; }
wait_until 10 source_quiet
ok $? "the requests in flight at the refusal end"
# Hammering is a rate, and while refused the source has no other event to
# count against (its slow re-check's period is its own business): this
# window is a rate measurement on purpose.
n1=$(fake_total_requests)
rate_window 2.5
n2=$(fake_total_requests)
diag "requests in 2.5 s while unauthorized: $((n2 - n1))"
is "$(test $((n2 - n1)) -le 2 && echo yes)" "yes" "no hammering while the key is refused"
is "$(grep -c 'the API key was refused' "$T/ftmond.log")" "1" "the refusal is logged once, not every poll"

# Fix the key and reload: everything resumes, nothing lost.
printf 'sk-rotated-77\n' >"$T/api.key"
check "reload after fixing the key" ctl reload
wait_until 30 jobs_complete_in_db 2
ok $? "jobs complete after the key is fixed"
check "stored points equal the truth" truthcheck
is "$(jget "$(ctl --json status)" 'j["sources"][0]["health"]')" "ok" "health is ok again"

# A key given through the environment, and a missing one.
stop_daemon
sed -i "s|^api_key_file = .*|api_key_env = FTMON_TEST_KEY|" "$CONF"
# A source that can never work is refused at start, with FILE:LINE.
unset FTMON_TEST_KEY
out=$("$FTMOND" -c "$CONF" 2>&1)
is "$?" "1" "the daemon refuses to start when the key variable is unset"
like "$out" "ftmon.conf:[0-9]*: .*FTMON_TEST_KEY is not set" "and names the config line and the variable"
ok "$(test ! -S "$SOCK"; echo $?)" "and binds no socket"
FTMON_TEST_KEY=sk-rotated-77
export FTMON_TEST_KEY
start_daemon
wait_until 10 sh -c "$FTMONCTL -s '$SOCK' --json status | grep -q '\"health\":\"ok\"'"
ok $? "a key from the environment works"
stop_daemon

# A systemd credential (LoadCredential=openai:... sets CREDENTIALS_DIRECTORY).
mkdir -p "$T/creds"
printf 'sk-rotated-77\n' >"$T/creds/openai"
chmod 600 "$T/creds/openai"
sed -i "s|^api_key_env = .*|api_key_credential = openai|" "$CONF"
CREDENTIALS_DIRECTORY="$T/creds"
export CREDENTIALS_DIRECTORY
fake POST /_fake/jobs '{"id": "ftjob-a3", "total_steps": 30, "steps_per_second": 40}' >/dev/null
start_daemon
wait_until 30 jobs_complete_in_db 3
ok $? "a key from a systemd credential works"
stop_daemon
done_testing
