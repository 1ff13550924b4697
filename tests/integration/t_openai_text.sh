#!/bin/sh
# Text and ids at the boundary (issue 8, items 2-6): invalid UTF-8 from the
# API is stored repaired, so every reply is valid JSON; a NUL inside a JSON
# string is refused instead of cutting it short; job ids are checked once
# for discovery, the job object and `track` ("." and ".." included); ids
# are percent-encoded ('.' too) in URL paths; refused list entries are
# counted and logged once each; steps past 2^53 are refused.
. "$(dirname "$0")/lib.sh"

start_fakeapi
openai_config
add_fault() { fake POST /_fake/fault "$1" >/dev/null; }
# A held job: its history stays what the faults below make it.
fake POST /_fake/jobs '{"id": "ftjob-text1", "status_override": "running"}' >/dev/null
fake POST /_fake/jobs '{"id": "ft.dot-1", "status_override": "running"}' >/dev/null

# The job list, three times: ftjob-text1 and six entries whose ids
# discovery refuses (space, tab, newline, DEL, e-acute, 10 KB).
list=$("$PYTHON3" -c 'import json
bad = ["bad id", "bad\tid", "bad\nid", "bad\x7fid", "bad\u00e9", "x" * 10000]
jobs = [{"id": "ftjob-text1", "object": "fine_tuning.job", "status": "running"}]
jobs += [{"id": i, "object": "fine_tuning.job", "status": "running"} for i in bad]
print(json.dumps({"match": "fine_tuning/jobs\\?", "status": 200, "times": 3,
                  "body": {"object": "list", "data": jobs, "has_more": False}}))')
add_fault "$list"
# Its first events page: a message with the bytes ff fe, metrics data with
# a NUL inside a key, and a step of 2^53 + 1.
events=$("$PYTHON3" -c 'import base64, json
body = (b"{\"object\":\"list\",\"has_more\":false,\"data\":["
        b"{\"id\":\"ftevent-utf8\",\"created_at\":1700000003,\"level\":\"info\","
        b"\"type\":\"message\",\"message\":\"bad \xff\xfe bytes\",\"data\":null},"
        b"{\"id\":\"ftevent-nul\",\"created_at\":1700000002,\"level\":\"info\","
        b"\"type\":\"metrics\",\"message\":\"m\",\"data\":{\"step\":3,"
        b"\"train_loss\\u0000junk\":9.0,\"train_loss\":0.25}},"
        b"{\"id\":\"ftevent-big\",\"created_at\":1700000001,\"level\":\"info\","
        b"\"type\":\"metrics\",\"message\":\"m\",\"data\":{\"step\":9007199254740993,"
        b"\"big_loss\":1.0}}]}")
print(json.dumps({"match": "ftjob-text1/events", "status": 200,
                  "body_b64": base64.b64encode(body).decode()}))')
add_fault "$events"
start_daemon

# ---- item 2: invalid UTF-8 ----
wait_until 20 sh -c "[ \"\$(sqlite3 '$DB' \"SELECT count(*) FROM events WHERE source_event_id = 'ftevent-utf8'\")\" = 1 ]"
ok $? "the event with bytes ff fe is stored"
is "$(sql "SELECT hex(message) FROM events WHERE source_event_id = 'ftevent-utf8'")" \
	"$(printf 'bad \357\277\275\357\277\275 bytes' | od -An -tx1 | tr -d ' \n' | tr a-f A-F)" \
	"as valid UTF-8: each bad byte is U+FFFD"
ctl --json events ftjob-text1 >"$T/events.json"
is "$?" "0" "events --json exits 0"
check "and its output is a JSON document python accepts" "$PYTHON3" -c '
import json, sys
j = json.load(open(sys.argv[1], encoding="utf-8", errors="strict"))
sys.exit(0 if "bad \ufffd\ufffd bytes" in json.dumps(j, ensure_ascii=False) else 1)' "$T/events.json"
ctl events ftjob-text1 >"$T/events.txt"
check "the text view is valid UTF-8 too" "$PYTHON3" -c '
import sys; open(sys.argv[1], "rb").read().decode("utf-8")' "$T/events.txt"

# ---- item 4: a NUL inside a key; also: a step past 2^53 ----
is "$(sql "SELECT p.value FROM points p JOIN metric_names m ON m.id = p.metric_id WHERE m.name = 'train_loss' AND p.step = 3")" \
	"0.25" "train_loss@3 is the real key's 0.25, not the NUL key's 9.0"
is "$(sql "SELECT count(*) FROM metric_names WHERE name = 'big_loss'")" "0" \
	"a step of 2^53+1 is refused, not stored as 2^53"

# ---- item 6: discovery's refused ids ----
wait_until 20 sh -c "[ \"\$(curl -s $FAKE/_fake/faults | tr -d ' \n')\" = '{\"faults\":[]}' ]"
ok $? "the three faulted listings were served"
wait_requests 1 "$LIST_ROUTE"
ok $? "and a later listing, so the third one was handled"
is "$(grep -c 'job list: skipped a job whose id' "$T/ftmond.log")" "6" \
	"each refused id is logged once over three listings"
is "$(grep -c "'bad\\\\x09id'" "$T/ftmond.log")" "1" "a tab is logged escaped"
is "$(grep -c "'bad\\\\x0aid'" "$T/ftmond.log")" "1" "a newline is logged escaped"
is "$(grep -c 'bad\\x7fid' "$T/ftmond.log")" "1" "DEL logged escaped"
is "$(grep -c 'bad\\xc3\\xa9' "$T/ftmond.log")" "1" "non-ASCII logged escaped"
like "$(grep 'xxxxxxxxxx' "$T/ftmond.log")" "'x{64}'\\.\\.\\. \\(10000 bytes\\)" \
	"the 10 KB id is cut short, with its length"
st=$(ctl --json status)
is "$(jget "$st" 'j["sources"][0]["counters"]["malformed"] >= 18')" "True" \
	"every refused entry of every listing is counted as malformed"
is "$(sql "SELECT count(*) FROM jobs WHERE external_id LIKE 'bad%' OR external_id LIKE 'xxx%'")" "0" "none of them is stored"

# ---- items 3 and 5: one id check for track ----
track_refused() { # track_refused ID WHAT: exit 1, a clear error, nothing stored
	_n=$(sql "SELECT count(*) FROM jobs")
	ctl track openai "$1" >/dev/null 2>"$T/err"
	is "$?" "1" "track $2 exits 1"
	like "$(cat "$T/err")" "${3:-invalid job id}" "  with a clear error"
	is "$(sql "SELECT count(*) FROM jobs")" "$_n" "  and nothing stored"
}
track_refused . '"."'
track_refused .. '".."'
track_refused "$(printf 'ftjob\nx')" "a name with a newline"
track_refused "$(printf 'ftjob\033[31m')" "a name with ESC"
track_refused "café" "a non-ASCII name"
track_refused "$(printf 'ftjob \t')" "a name with a space and a tab"
track_refused "$(printf 'ftjob\377')" "a name that is not UTF-8" "not valid UTF-8"
check "no request went to the job list or the API root" sh -c \
	"! grep -E 'GET /v1/fine_tuning/(jobs/)?(\\?| )' '$T/fakeapi.log'"
out=$(ctl track openai ft.dot-1)
is "$?" "0" "a job id with a dot is tracked"
check "with the dot percent-encoded in the path" grep -q 'GET /v1/fine_tuning/jobs/ft%2Edot-1 ' "$T/fakeapi.log"
is "$(sql "SELECT count(*) FROM jobs WHERE external_id = 'ft.dot-1'")" "1" "and stored under its id"
add_fault '{"match": "fine_tuning/jobs/ftjob-other$", "status": 200, "body": {"id": "ftjob-text1", "object": "fine_tuning.job", "status": "running"}}'
track_refused ftjob-other "when the API answers about another job" "answered about job 'ftjob-text1'"

# ---- item 4: a NUL in a socket request ----
r=$(rawreq '{"id":1,"cmd":"job","args":{"job":"ftjob-text1\u0000evil"}}')
is "$(jget "$r" 'j["ok"], j["error"]["code"]')" "False bad_request" "job with \\u0000 in the name is refused"
r=$(rawreq '{"id":2,"cmd":"track","args":{"source":"openai","job":"ftjob-text1\u0000evil"}}')
is "$(jget "$r" 'j["ok"], j["error"]["code"]')" "False bad_request" "track with \\u0000 is refused"
r=$(rawreq '{"id":3,"cmd":"job","args":{"job":"ftjob-text1"}}')
is "$(jget "$r" 'j["ok"]')" "True" "the same request without the NUL works"
stop_daemon
done_testing
