#!/bin/sh
# What `status` and `reload` say must be true and add up: per-source job
# counts match the totals after jobs finish, a missing job is counted, a
# failed reload lists each error on its own (reply, status, log), and
# track refuses a job the API does not know while storing nothing.
. "$(dirname "$0")/lib.sh"

start_fakeapi
openai_config
fake POST /_fake/jobs '{"id": "ftjob-c1", "total_steps": 20, "steps_per_second": 40}' >/dev/null
fake POST /_fake/jobs '{"id": "ftjob-c2", "total_steps": 20, "steps_per_second": 40}' >/dev/null
fake POST /_fake/jobs '{"id": "ftjob-c3", "total_steps": 20, "steps_per_second": 40, "fail_at_step": 10}' >/dev/null
start_daemon
wait_until 30 jobs_complete_in_db 3
ok $? "three jobs end"
st=$(ctl --json status)
is "$(jget "$st" 'j["sources"][0]["jobs"]')" "3" "the source's JOBS still counts its finished jobs"
is "$(jget "$st" 'j["sources"][0]["jobs"] == sum(j["jobs"].values())')" "True" \
	"per-source counts add up to the job totals"
is "$(jget "$st" 'j["sources"][0]["jobs_by_status"].get("failed", 0)')" "1" "by status too"

# A job that vanishes at the API is counted as missing, not dropped.
fake POST /_fake/jobs '{"id": "ftjob-gone", "total_steps": 100000, "steps_per_second": 1}' >/dev/null
wait_until 15 sh -c "[ \"\$(sqlite3 '$DB' \"SELECT count(*) FROM jobs WHERE external_id = 'ftjob-gone'\")\" = 1 ]"
fake POST /_fake/remove '{"id": "ftjob-gone"}' >/dev/null
wait_until 20 sh -c "[ \"\$(sqlite3 '$DB' \"SELECT status FROM jobs WHERE external_id = 'ftjob-gone'\")\" = missing ]"
ok $? "the vanished job is marked missing"
st=$(ctl --json status)
is "$(jget "$st" 'j["jobs"].get("missing", 0)')" "1" "status counts the missing job"
is "$(jget "$st" 'j["sources"][0]["jobs"] == sum(j["jobs"].values()) == 4')" "True" \
	"and the source's count includes it"

# Track asks the API first: an unknown id or a prefix is refused, nothing stored.
before=$(sql "SELECT count(*) FROM jobs")
for id in ftjob-nope ftjob-c; do
	ctl track openai "$id" >"$T/out" 2>"$T/err"
	is "$?" "1" "track of $id (unknown to the API) exits 1"
	like "$(cat "$T/err")" "does not know job '$id'" "and says the API does not know it"
done
is "$(sql "SELECT count(*) FROM jobs")" "$before" "nothing was stored for them"
out=$(ctl --json jobs --all)
is "$(jget "$out" 'len([x for x in j if x["name"].startswith("openai/ftjob-c")])')" "3" \
	"prefix lookups stay unambiguous"

fake POST /_fake/jobs '{"id": "ftjob-c4", "total_steps": 20, "steps_per_second": 40}' >/dev/null
sed -i 's/^discover = .*//' "$CONF"
out=$(ctl track openai/ftjob-c4)
is "$?" "0" "track SOURCE/EXTERNAL_ID works"
like "$out" "openai/ftjob-c4" "and names the job"
ctl track nosuch/ftjob-c4 >/dev/null 2>"$T/err"
like "$(cat "$T/err")" "no source named 'nosuch'" "an unknown source in the name form is refused"

# A reload with several errors: a list, not one long line.
cp "$CONF" "$T/good.conf"
cat >>"$CONF" <<'BAD'
[source two]
type = openai
poll_interval = fast
max_connections = 0
BAD
ctl reload >/dev/null 2>&1
is "$?" "1" "a bad reload fails"
rep=$(rawreq '{"id": 1, "cmd": "reload"}')
is "$(jget "$rep" 'len(j["error"]["errors"])')" "3" "the reply lists each error"
is "$(jget "$rep" 'all(":" in e and "\n" not in e for e in j["error"]["errors"])')" "True" \
	"one FILE:LINE: message per entry"
st=$(ctl --json status)
is "$(jget "$st" 'len(j["config_errors"])')" "3" "status keeps the list"
is "$(grep -c 'ftmon.conf:[0-9]*: ' "$T/ftmond.log")" "6" "the log has one line per error (two reloads)"
ok "$(grep -q '?\[source\|?ftmon' "$T/ftmond.log"; test $? -ne 0; echo $?)" "with no newline printed as ?"
cp "$T/good.conf" "$CONF"
check "a good reload succeeds" ctl reload
is "$(jget "$(ctl --json status)" 'len(j["config_errors"])')" "0" "and clears the list"
stop_daemon
done_testing
