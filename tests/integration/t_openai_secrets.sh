#!/bin/sh
# Secrets and reloads: a server that reflects the key in its response
# headers does not put it in the debug log; a reload whose key cannot be
# read is refused with the reason, like any invalid configuration.
. "$(dirname "$0")/lib.sh"

KEY=sk-reflected-9d2e71
start_fakeapi --key "$KEY"
printf '%s\n' "$KEY" >"$T/api.key"
chmod 600 "$T/api.key"
openai_config
# Every answer carries the request's credentials back.
fake POST /_fake/fault '{"match": "", "kind": "reflect", "times": 100000}' >/dev/null
fake POST /_fake/jobs '{"id": "ftjob-s1", "total_steps": 40, "steps_per_second": 40}' >/dev/null
start_daemon -v
wait_until 30 jobs_complete_in_db 1
ok $? "the job completes"
like "$(grep -c 'x-echo-token: \[redacted\]' "$T/ftmond.log")" '^[1-9]' \
	"a response header holding the key is logged redacted"
like "$(grep -c 'x-echo-authorization: \[redacted\]' "$T/ftmond.log")" '^[1-9]' \
	"so is one echoing the Authorization header"
like "$(grep -c 'x-request-id: req_' "$T/ftmond.log")" '^[1-9]' "other headers are logged as they are"
is "$(grep -c "$KEY" "$T/ftmond.log")" "0" "the key is nowhere in the debug log"

# A reload after the key file is deleted: refused, with the reason.
rm -f "$T/api.key"
out=$(ctl reload 2>&1)
is "$?" "1" "a reload without the key file fails"
like "$out" "api.key.*(No such file|does not exist|cannot)" "and says why"
st=$(ctl --json status)
like "$(jget "$st" 'j["config_errors"][0]')" "api.key" "status shows the config error"
fake POST /_fake/jobs '{"id": "ftjob-s2", "total_steps": 40, "steps_per_second": 40}' >/dev/null
wait_until 30 jobs_complete_in_db 2
ok $? "the running configuration goes on"

# Made unusable: an empty key file.
: >"$T/api.key"
chmod 600 "$T/api.key"
out=$(ctl reload 2>&1)
is "$?" "1" "a reload with an empty key file fails"
like "$out" "api.key" "and names the file"

# Fixed: the reload goes through and the error is gone.
printf '%s\n' "$KEY" >"$T/api.key"
check "a reload with the key back succeeds" ctl reload
is "$(jget "$(ctl --json status)" 'j["config_errors"]')" "[]" "the config error is cleared"
stop_daemon
is "$DAEMON_STATUS" "0" "the daemon stops cleanly"
done_testing
