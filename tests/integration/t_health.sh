#!/bin/sh
# A source's health says what is true, with since when: an API that cannot
# be reached is "down since T" (not "ok"), a refused key is "unauthorized
# since T" and counts in ERRORS, and the last error carries its time and
# clears once a later request succeeds (after a fixed key and a reload too).
. "$(dirname "$0")/lib.sh"

health() { jget "$(ctl --json status)" "j['sources'][0]$1"; }

start_fakeapi
OPENAI_POLL=200ms
OPENAI_TIMEOUT=1s
openai_config
start_daemon
wait_until 10 sh -c "[ \"\$($FTMONCTL -s '$SOCK' --json status | $PYTHON3 -c 'import json,sys; print(json.load(sys.stdin)[\"sources\"][0][\"requests\"])')\" -gt 0 ]"
is "$(health '["health"]')" "ok" "a source that polls fine is ok"
is "$(health '["last_error"]')" "None" "with no last error"

# The API goes away: the source is down, since when it began.
port=$(cat "$T/fake.port")
t0=$(date +%s)
kill "$FAKE_PID"
wait "$FAKE_PID" 2>/dev/null
wait_until 30 sh -c "$FTMONCTL -s '$SOCK' --json status | grep -q '\"health\":\"down\"'"
ok $? "an unreachable API makes the source down"
st=$(ctl --json status)
is "$(jget "$st" 'j["sources"][0]["health_since"] >= '"$t0"' - 1')" "True" "since when it began"
like "$(jget "$st" 'j["sources"][0]["last_error"]')" "onnect" "the last error says why"
is "$(jget "$st" 'isinstance(j["sources"][0]["last_error_at"], (int, float))')" "True" \
	"and carries its time"
like "$(ctl status)" "down since" "ftmonctl status says since when"
check "the socket still answers" ctl ping

# It comes back on the same port: ok again, the error is history.
"$PYTHON3" "$HELPERS/fakeapi.py" --port "$port" --log "$T/fakeapi.log" >>"$T/fakeapi.out" 2>&1 &
FAKE_PID=$!
wait_until 60 sh -c "$FTMONCTL -s '$SOCK' --json status | grep -q '\"health\":\"ok\"'"
ok $? "the source is ok once the API answers again"
is "$(health '["last_error"]')" "None" "and the last error is cleared"
is "$(health '["health_since"]')" "None" "and it is unwell since no time"

# A refused key: unauthorized since T, every 401 counted in ERRORS.
e0=$(health '["errors"]')
fake POST /_fake/key '{"key": "sk-rotated-88"}' >/dev/null
wait_until 15 sh -c "$FTMONCTL -s '$SOCK' --json status | grep -q '\"health\":\"unauthorized\"'"
ok $? "a refused key makes the source unauthorized"
st=$(ctl --json status)
is "$(jget "$st" 'j["sources"][0]["errors"] > '"$e0")" "True" "a 401 counts in ERRORS"
is "$(jget "$st" 'j["sources"][0]["errors"] - '"$e0"' >= j["sources"][0]["counters"]["auth_failures"] - 0')" "True" \
	"each refusal counts"
is "$(jget "$st" 'isinstance(j["sources"][0]["health_since"], (int, float))')" "True" \
	"unauthorized since a time"
like "$(ctl status)" "unauthorized since" "ftmonctl status says since when"

# Fix the key and reload: the refusal message goes away.
printf 'sk-rotated-88\n' >"$T/api.key"
check "reload after fixing the key" ctl reload
wait_until 15 sh -c "$FTMONCTL -s '$SOCK' --json status | grep -q '\"health\":\"ok\"'"
ok $? "ok after the reload"
is "$(health '["last_error"]')" "None" "HTTP 401 no longer shows as the last error"
stop_daemon
done_testing
