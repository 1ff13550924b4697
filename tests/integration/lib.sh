# lib.sh: shared helpers for ftmon's integration tests (sourced, POSIX sh +
# a few bash-isms avoided).  Every test gets a private temp dir with its own
# config, socket, database and logs; it prints TAP; every wait is bounded.
#
# Environment (set by `make check`): top_srcdir, top_builddir, PYTHON3.
# FTMOND_WRAPPER may name a command to run ftmond under (e.g. valgrind).

set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${PYTHON3:=python3}"
FTMOND="$top_builddir/ftmond"
FTMONCTL="$top_builddir/ftmonctl"
HELPERS="$top_srcdir/tests/helpers"

T=$(mktemp -d "${TMPDIR:-/tmp}/ftmon-test.XXXXXX")
chmod 755 "$T"
SOCK="$T/ftmon.sock"
DB="$T/ftmon.db"
CONF="$T/ftmon.conf"
export FTMON_SOCKET="$SOCK"
DAEMON_PID=
NOTIFY_PID=
FAKE_PID=
tap_n=0
tap_failed=0

# ---- TAP ----
ok() { # ok COND_EXIT_STATUS DESCRIPTION
	tap_n=$((tap_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $tap_n - $2"
	else
		echo "not ok $tap_n - $2"
		tap_failed=$((tap_failed + 1))
	fi
}
check() { # check DESCRIPTION CMD...: ok if CMD succeeds
	_d=$1
	shift
	if "$@" >"$T/check.out" 2>&1; then ok 0 "$_d"; else
		ok 1 "$_d"
		sed 's/^/#   /' "$T/check.out" | head -20
	fi
}
is() { # is GOT WANT DESCRIPTION
	if [ "$1" = "$2" ]; then ok 0 "$3"; else
		ok 1 "$3"
		echo "#   got:  $(printf '%s' "$1" | head -c 400)"
		echo "#   want: $(printf '%s' "$2" | head -c 400)"
	fi
}
like() { # like GOT REGEX DESCRIPTION
	if printf '%s' "$1" | grep -Eq -- "$2"; then ok 0 "$3"; else
		ok 1 "$3"
		echo "#   got:  $(printf '%s' "$1" | head -c 400)"
		echo "#   want match: $2"
	fi
}
diag() { echo "# $*"; }
skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}
bail() {
	echo "Bail out! $*"
	dump_logs
	exit 99
}
done_testing() {
	echo "1..$tap_n"
	[ "$tap_failed" -eq 0 ] || dump_logs
	[ "$tap_failed" -eq 0 ]
}

dump_logs() {
	for f in "$T"/*.log; do
		[ -f "$f" ] || continue
		echo "# --- $f (last 30 lines)"
		tail -n 30 "$f" | sed 's/^/#   /'
	done
}

# ---- waiting ----
# wait_until SECONDS CMD...: poll CMD every 0.1 s until it succeeds.
wait_until() {
	_limit=$1
	shift
	_end=$(($(date +%s) + _limit))
	while ! "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -lt "$_end" ] || return 1
		sleep 0.1
	done
	return 0
}
now_ms() { date +%s%3N; } # wall clock in ms, to measure (never wait out) a delay
# rate_window SECONDS: a measurement window for "at most N per window" rate
# checks, and only those; never to wait for an event or to rule one out.
rate_window() { sleep "$1"; }

# ---- the daemon ----
write_config() { # write_config [EXTRA_TEXT]: daemon section + what is given
	{
		echo "[daemon]"
		echo "database = $DB"
		echo "socket = $SOCK"
		echo "log_level = debug"
		printf '%s\n' "${1:-}"
	} >"$CONF"
}

notify_ready_count() {
	_c=$(grep -c "READY=1" "$T/notify.log" 2>/dev/null)
	echo "${_c:-0}"
}

# start_daemon: run ftmond on $CONF with a NOTIFY_SOCKET we own; wait for
# READY=1 (10 s).  Extra arguments go to ftmond.
start_daemon() {
	if [ -z "$NOTIFY_PID" ]; then
		rm -f "$T/notify.sock"
		"$PYTHON3" "$HELPERS/notifywait.py" "$T/notify.sock" --keep \
			--log "$T/notify.log" >/dev/null 2>&1 &
		NOTIFY_PID=$!
		wait_until 10 test -S "$T/notify.sock" || bail "notifywait did not start"
	fi
	_ready_before=$(notify_ready_count)
	NOTIFY_SOCKET="$T/notify.sock" ${FTMOND_WRAPPER:-} "$FTMOND" -c "$CONF" "$@" \
		>>"$T/ftmond.log" 2>&1 &
	DAEMON_PID=$!
	wait_until 15 daemon_ready_after "$_ready_before" || {
		dump_logs
		bail "ftmond did not become ready"
	}
}
daemon_ready_after() {
	[ "$(notify_ready_count)" -gt "$1" ] || return 1
	kill -0 "$DAEMON_PID"
}

# stop_daemon [SIGNAL]: signal ftmond and wait (10 s); sets DAEMON_STATUS.
stop_daemon() {
	DAEMON_STATUS=
	[ -n "$DAEMON_PID" ] || return 0
	kill -"${1:-TERM}" "$DAEMON_PID" 2>/dev/null
	_i=0
	while kill -0 "$DAEMON_PID" 2>/dev/null && [ $_i -lt 100 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	if kill -0 "$DAEMON_PID" 2>/dev/null; then
		kill -KILL "$DAEMON_PID" 2>/dev/null
		DAEMON_STATUS=timeout
	fi
	wait "$DAEMON_PID" 2>/dev/null
	_st=$?
	[ -n "$DAEMON_STATUS" ] || DAEMON_STATUS=$_st
	DAEMON_PID=
}

ctl() { "$FTMONCTL" -s "$SOCK" "$@"; }
# rawreq JSON_LINE: send one request line over the socket, print the reply line.
rawreq() {
	"$PYTHON3" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
buf = b""
while not buf.endswith(b"\n"):
    chunk = s.recv(65536)
    if not chunk:
        break
    buf += chunk
sys.stdout.write(buf.decode())' "$SOCK" "$1"
}
sql() { sqlite3 -batch -noheader "$DB" "$@"; }
# jget JSON PYTHON_EXPR: evaluate an expression over the parsed JSON `j`.
jget() {
	printf '%s' "$1" | "$PYTHON3" -c 'import json,sys; j=json.load(sys.stdin); print('"$2"')'
}

# ---- the fake API ----
# start_fakeapi [ARGS...]: run tests/helpers/fakeapi.py on a free port;
# sets FAKE_URL (base_url for the config) and FAKE (its root).
start_fakeapi() {
	"$PYTHON3" "$HELPERS/fakeapi.py" --port 0 --port-file "$T/fake.port" \
		--log "$T/fakeapi.log" "$@" >>"$T/fakeapi.out" 2>&1 &
	FAKE_PID=$!
	wait_until 10 test -s "$T/fake.port" || bail "fake API did not start"
	FAKE="http://127.0.0.1:$(cat "$T/fake.port")"
	FAKE_URL="$FAKE/v1"
}
fake() { # fake METHOD PATH [JSON_BODY]
	if [ $# -ge 3 ]; then
		curl -sS -X "$1" -H 'Content-Type: application/json' --data "$3" "$FAKE$2"
	else
		curl -sS -X "$1" "$FAKE$2"
	fi
}

cleanup() {
	[ -n "$DAEMON_PID" ] && kill -KILL "$DAEMON_PID" 2>/dev/null
	[ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null
	[ -n "$NOTIFY_PID" ] && kill "$NOTIFY_PID" 2>/dev/null
	wait 2>/dev/null
	if [ "${KEEP_TEST_DIR:-}" = "" ]; then rm -rf "$T"; else echo "# kept $T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- OpenAI-source helpers ----
# openai_config [EXTRA_SOURCE_LINES]: daemon + [source openai] on the fake.
openai_config() {
	write_config "[source openai]
type = openai
base_url = $FAKE_URL
api_key_file = $T/api.key
poll_interval = ${OPENAI_POLL:-300ms}
timeout = ${OPENAI_TIMEOUT:-2s}
${1:-}"
	[ -f "$T/api.key" ] || { printf 'sk-test\n' >"$T/api.key"; chmod 600 "$T/api.key"; }
}
# jobs_finished_in_db N: N jobs stored, all finished with their result file.
jobs_complete_in_db() {
	[ "$(sql "SELECT count(*) FROM jobs WHERE status IN ('succeeded','failed','cancelled')
		AND results_done = 1")" = "$1" ]
}
# fake_jobs_finished: every job of the fake API has finished.
fake_jobs_finished() {
	fake GET /_fake/jobs | "$PYTHON3" -c 'import json,sys
j=json.load(sys.stdin)["jobs"]
sys.exit(0 if j and all(x["status"] in ("succeeded","failed","cancelled") for x in j) else 1)'
}
truthcheck() { # truthcheck [JOB...]: stored points equal the fake's truth
	"$PYTHON3" "$HELPERS/truthcheck.py" "$DB" "$FAKE" openai "$@"
}
fake_requests_for() { # fake_requests_for JOB_ID: API requests that named it
	fake GET /_fake/stats | "$PYTHON3" -c 'import json,sys
print(sum(json.load(sys.stdin)["by_job"].get(sys.argv[1], {}).values()))' "$1"
}
fake_total_requests() {
	fake GET /_fake/stats | "$PYTHON3" -c 'import json,sys; print(json.load(sys.stdin)["total"])'
}
fake_job_requests() { # API requests that named any job
	fake GET /_fake/stats | "$PYTHON3" -c 'import json,sys
print(sum(sum(v.values()) for v in json.load(sys.stdin)["by_job"].values()))'
}

# ---- counting the fake API's requests ----
# "X did not happen" is proved by waiting (bounded) for a later event that
# shows the daemon went past the point where X would have happened, e.g. N
# more discovery listings, then checking X's count is unchanged.
LIST_ROUTE="GET /v1/fine_tuning/jobs" # the discovery listing (default prefix)
# fake_stat KEY [ROUTE]: requests the fake API served for KEY: "total", a
# route as /_fake/stats names it ("$LIST_ROUTE"), or a job id (every request
# naming the job, or only those of ROUTE).
fake_stat() {
	fake GET /_fake/stats | "$PYTHON3" -c 'import json,sys
j, k = json.load(sys.stdin), sys.argv[1]
if k == "total":
    print(j["total"])
elif " " in k:
    print(j["requests"].get(k, 0))
else:
    per = j["by_job"].get(k, {})
    print(per.get(sys.argv[2], 0) if len(sys.argv) > 2 else sum(per.values()))' "$@"
}
fake_stat_ge() { # fake_stat_ge N KEY [ROUTE]: at least N served
	_sn=$1
	shift
	_sgot=$(fake_stat "$@") && [ "$_sgot" -ge "$_sn" ]
}
# wait_requests N KEY [ROUTE]: wait (20 s) until the fake API has served N
# more requests for KEY (as fake_stat) than when called.
wait_requests() {
	_wn=$1
	shift
	_wbase=$(fake_stat "$@") || return 1
	wait_until 20 fake_stat_ge $((_wbase + _wn)) "$@"
}
