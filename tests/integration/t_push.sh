#!/bin/sh
# The push source: `ftmonctl log` (job created on first use, steps given or
# taken as the next, duplicates a no-op, nan/inf/-inf, status ends the job
# with job.finished), usage errors for malformed operands, refusals on the
# socket (malformed values, a non-push source, an unknown one, non-admins),
# batched points in one request and one commit, and a pipelined stream of
# single-point requests answered in order in fewer commits than requests.
. "$(dirname "$0")/lib.sh"

export K=sk-test
write_config "socket_mode = 0666
[source push]
type = push
[source api]
type = openai
api_key_env = K
base_url = http://127.0.0.1:9/v1
discover = no"
start_daemon

# counters of the push source's status: COUNTER
counter() {
	jget "$(ctl --json status)" '[s for s in j["sources"] if s["name"] == "push"][0]["counters"]["'"$1"'"]'
}
npoints() { sql "SELECT count(*) FROM metric_points WHERE source = 'push' AND job = '$1'"; }
# pipe LINE...: send every line at once on one connection; print the
# replies' ids and whether each was ok, in the order they came
pipe() {
	"$PYTHON3" - "$SOCK" "$@" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
s.sendall("".join(l + "\n" for l in sys.argv[2:]).encode())
f = s.makefile("rb")
print(" ".join("%s:%s" % (r.get("id"), r.get("ok")) for r in (json.loads(f.readline()) for _ in sys.argv[2:])))
PY
}

# ---- ftmonctl log ----
out=$(ctl log run1 step=1 train_loss=2.5 valid_loss=2.75 2>&1)
is "$?" "0" "ftmonctl log exits 0"
is "$out" "logged 2 points to push/run1 (2 new)" "and says how many points were new"
is "$(sql "SELECT status FROM jobs WHERE source = 'push' AND external_id = 'run1'")" "running" \
	"the job is created on first use, running"
is "$(sql "SELECT metric || '=' || value FROM metric_points WHERE job = 'run1' AND step = 1 ORDER BY metric" | tr '\n' ' ')" \
	"train_loss=2.5 valid_loss=2.75 " "both points stored at step 1"
is "$(ctl log push/run1 train_loss=2.25)" "logged 1 point to push/run1 (1 new)" "SOURCE/ID names the job too"
is "$(sql "SELECT step FROM metric_points WHERE job = 'run1' AND value = 2.25")" "2" \
	"a point without a step takes the next step after the last"
is "$(ctl log run1 step=1 train_loss=9)" "logged 1 point to push/run1 (0 new)" "a duplicate step is reported as not new"
is "$(sql "SELECT value FROM metric_points WHERE job = 'run1' AND step = 1 AND metric = 'train_loss'")" "2.5" \
	"and does not change the stored point"
ctl log run1 step=3 a=nan b=INF c=-inf >/dev/null
is "$?" "0" "nan, INF and -inf are accepted"
is "$(sql "SELECT metric || '=' || coalesce(value, 'NULL') FROM metric_points WHERE job = 'run1' AND step = 3 ORDER BY metric" | tr '\n' ' ')" \
	"a=NULL b=Inf c=-Inf " "NaN stored as NULL, infinities as themselves"
is "$(jget "$(ctl --json log run1 step=4 x=1)" '[j["points"], j["new_points"], j["job"]]')" \
	"[1, 1, 'push/run1']" "the JSON reply carries points, new_points and the job"

# usage errors: exit 2, one line, nothing sent
before=$(npoints run1)
big=$(head -c 10240 /dev/zero | tr '\0' m)
for arg in step=abc loss= =1 step=-1 "$big=1" "$(printf 'lo\033[2Jss')=1" "$(printf 'a\tb')=1" \
	loss=abc loss=0x10 loss=1e999 status=done; do
	ctl log run1 step=5 "$arg" >"$T/out" 2>"$T/err"
	rc=$?
	shown=$(printf '%s' "$arg" | head -c 24 | tr -c '[:print:]' '?')
	is "$rc" "2" "log refuses '$shown' with a usage error"
	is "$(wc -l <"$T/err" | tr -d ' ')" "1" "  in one line"
done
like "$(ctl log run1 "$big=1" 2>&1)" "at most 200 bytes" "a 10 KB metric name: the limit is named"
case "$(ctl log run1 "$(printf 'a\033b')=1" 2>&1)" in
*"$(printf '\033')"*) ok 1 "a control character is not echoed to the terminal" ;;
*) ok 0 "a control character is not echoed to the terminal" ;;
esac
ctl log "$(printf 'bad\njob')" x=1 >/dev/null 2>&1
is "$?" "2" "a job name with a newline is a usage error"
is "$(npoints run1)" "$before" "no refused operand stored anything"

# ---- the socket: malformed values, other sources ----
r=$(rawreq '{"id":1,"cmd":"log","args":{"job":"run1","step":5,"metrics":{"loss":"abc"}}}')
is "$(jget "$r" 'j["error"]["code"]')" "invalid_argument" "a string value other than nan/inf is refused"
like "$(jget "$r" 'j["error"]["message"]')" 'metric "loss"' "and the metric is named"
r=$(rawreq '{"id":1,"cmd":"log","args":{"job":"run1","points":[{"step":1,"metrics":{"a":1}},{"step":-2,"metrics":{"a":1}}]}}')
like "$(jget "$r" 'j["error"]["message"]')" 'points\[1\]' "a bad point in a batch is named by its index"
r=$(rawreq '{"id":1,"cmd":"log","args":{"job":"api/ftjob-x","step":1,"metrics":{"a":1}}}')
is "$(jget "$r" 'j["error"]["code"]')" "invalid_argument" "a push to an openai source is refused"
like "$(jget "$r" 'j["error"]["message"]')" "source 'api' is of type openai" "and says why"
r=$(rawreq '{"id":1,"cmd":"log","args":{"job":"nosuch/x","step":1,"metrics":{"a":1}}}')
is "$(jget "$r" 'j["error"]["code"]')" "not_found" "a push to an unknown source is not_found"
is "$(sql "SELECT count(*) FROM jobs WHERE source != 'push'")" "0" "no job was created by a refusal"
is "$(npoints run1)" "$before" "nor any point"

# ---- permissions ----
if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$FTMONCTL" -s "$SOCK" log run1 step=9 x=1 \
		>"$T/out" 2>"$T/err"
	is "$?" "1" "log as nobody is refused"
	like "$(cat "$T/err")" 'permission_denied' "with permission_denied"
	is "$(sql "SELECT count(*) FROM metric_points WHERE job = 'run1' AND step = 9")" "0" "and stored nothing"
else
	ok 0 "# SKIP not root: cannot run the client as nobody"
fi

# ---- batched: many points in one request, one commit ----
c0=$(counter commits)
r=$("$PYTHON3" "$HELPERS/pushpipe.py" "$SOCK" batch1 --points 500 --batch 500 --metrics 3)
is "$(jget "$r" '[j["answered"], j["errors"], j["new_points"]]')" "[1, [], 1500]" \
	"500 points x 3 metrics in one request: 1500 new"
is "$(npoints batch1)" "1500" "all stored"
is "$(($(counter commits) - c0))" "1" "in one commit"

# ---- pipelined single-point requests on one connection ----
c0=$(counter commits)
r=$("$PYTHON3" "$HELPERS/pushpipe.py" "$SOCK" pipe1 --points 2000 --batch 1 --then metrics)
is "$(jget "$r" '[j["answered"], j["in_order"], j["errors"], j["new_points"]]')" "[2001, True, [], 2000]" \
	"2000 pipelined requests answered, in order"
is "$(jget "$r" 'len(j["then"]["m0"])')" "2000" "a metrics request behind them sees every point"
commits=$(($(counter commits) - c0))
diag "2000 pipelined requests took $commits commits"
ok "$([ "$commits" -lt 1000 ]; echo $?)" "they were stored in fewer commits than half the requests"
is "$(npoints pipe1)" "2000" "all 2000 stored"

# a client that shuts down its sending side still gets every answer
r=$("$PYTHON3" "$HELPERS/pushpipe.py" "$SOCK" half1 --points 300 --half-close)
is "$(jget "$r" '[j["answered"], j["in_order"], j["new_points"]]')" "[300, True, 300]" \
	"a half-closed client gets all 300 answers, in order"
# a client that leaves before its answers: what was taken is stored, in
# order, with no hole (requests still unread when it went are dropped, as
# for any command)
"$PYTHON3" "$HELPERS/pushpipe.py" "$SOCK" gone1 --points 300 --no-read >/dev/null
is "$(ctl --json ping)" '"pong"' "a client gone before its answers: the daemon is fine"
wait_until 10 test "$(npoints gone1)" -gt 0
is "$(sql "SELECT count(*) > 0 AND count(*) = max(step) + 1 FROM metric_points WHERE job = 'gone1'")" "1" \
	"and the points it had sent were stored, a prefix of its stream"

# ---- status ends the job ----
is "$(ctl log run1 status=succeeded)" "set status of push/run1 to succeeded" "status=succeeded"
is "$(sql "SELECT status, finished_at IS NOT NULL FROM jobs WHERE external_id = 'run1'")" "succeeded|1" \
	"ends the job"
is "$(sql "SELECT count(*) FROM events e JOIN jobs j ON j.id = e.job_id WHERE j.external_id = 'run1' AND e.type = 'job.finished'")" \
	"1" "and writes job.finished"
ctl log run1 status=succeeded >/dev/null
is "$(sql "SELECT count(*) FROM events e JOIN jobs j ON j.id = e.job_id WHERE j.external_id = 'run1' AND e.type = 'job.finished'")" \
	"1" "the same status again writes no second job.finished"
st=$(ctl --json status)
is "$(jget "$st" '[(s["health"], s["type"]) for s in j["sources"] if s["name"] == "push"][0]')" \
	"('ok', 'push')" "status shows the push source healthy"
is "$(counter failed_commits)" "0" "with no failed commit"

# ---- several push sources: a bare name is ambiguous ----
write_config "socket_mode = 0666
[source push]
type = push
[source lab]
type = push"
ctl reload >/dev/null
r=$(rawreq '{"id":1,"cmd":"log","args":{"job":"run2","step":1,"metrics":{"a":1}}}')
is "$(jget "$r" 'j["error"]["code"]')" "ambiguous" "two push sources: a bare job name is ambiguous"
like "$(jget "$r" 'j["error"]["message"]')" "SOURCE/run2" "and the error says how to name one"
is "$(ctl log lab/run2 step=1 a=1)" "logged 1 point to lab/run2 (1 new)" "SOURCE/ID picks the source"
is "$(pipe '{"id":1,"cmd":"log","args":{"job":"push/mix","step":1,"metrics":{"a":1}}}' \
	'{"id":2,"cmd":"log","args":{"job":"lab/mix","step":1,"metrics":{"a":1}}}' \
	'{"id":3,"cmd":"log","args":{"job":"push/mix","step":1,"metrics":{"a":"bad"}}}' \
	'not json' \
	'{"id":5,"cmd":"jobs","args":{"all":true}}' \
	'{"id":6,"cmd":"log","args":{"job":"push/mix","step":2,"metrics":{"a":1}}}')" \
	"1:True 2:True 3:False None:False 5:True 6:True" \
	"a pipelined mix of sources, refusals and other commands is answered in order"
# forget drops the source's cached id: the next log creates the job again
# (it failed with a foreign-key error before the source was told).
check "log to a job that will be forgotten" ctl log push/again step=1 loss=2
check "forget --force it" ctl forget --force push/again
check "a log to the same name after forget succeeds" ctl log push/again step=2 loss=3
is "$(sqlite3 "$DB" "SELECT group_concat(step) FROM metric_points WHERE job = 'again'")" "2" \
	"the new job holds only the new point"
write_config "socket_mode = 0666"
ctl reload >/dev/null
r=$(rawreq '{"id":1,"cmd":"log","args":{"job":"run2","step":1,"metrics":{"a":1}}}')
like "$(jget "$r" 'j["error"]["message"]')" "no push source is configured" "no push source: said so"

stop_daemon
is "$DAEMON_STATUS" "0" "clean exit"
done_testing
