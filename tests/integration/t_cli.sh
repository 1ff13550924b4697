#!/bin/sh
# ftmonctl as a new user meets it, against the real daemon and the fake
# API: forget (refused while running and tracked, then with --force, rows
# gone), --json errors as documents on stdout, unknown --source/--status
# refused with the known ones listed, events with ages, show of a finished
# job without an estimate, status fields, and the client defects of issue
# 11 (man page, ftmond's option errors, the quickstart build's noise).
. "$(dirname "$0")/lib.sh"

# ---- without a daemon ----
"$FTMOND" --bogus >"$T/o" 2>"$T/e"
is "$?" "2" "ftmond --bogus exits 2"
is "$(wc -l <"$T/e" | tr -d ' ')" "1" "with one line"
like "$(cat "$T/e")" "--bogus.*ftmond --help" "naming the option and pointing to --help"
"$FTMOND" -c >"$T/o" 2>"$T/e"
is "$(cat "$T/e")" "ftmond: option '-c' needs an argument (see 'ftmond --help')" \
	"a missing argument: one line"
"$FTMONCTL" -s "$T/nosock" --json status >"$T/o" 2>"$T/e"
is "$?" "3" "--json and no daemon: exit 3"
check "--json and no daemon: an error document on stdout" "$PYTHON3" -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["ok"] is False and d["error"]["code"] == "unreachable" and d["error"]["message"], d
' "$T/o"
like "$(cat "$T/e")" "^ftmonctl: cannot connect" "and the line on stderr"
"$FTMONCTL" --json nosuchcommand >"$T/o" 2>/dev/null
is "$(jget "$(cat "$T/o")" 'j["error"]["code"]')" "usage" "--json usage error: code usage"

# ftmonctl(1) against --help: defects 1 and 3.
man1=$top_srcdir/man/ftmonctl.1
is "$(grep -c 'oldest first' "$man1")" "0" "ftmonctl(1) no longer says events are oldest first"
like "$(grep -A1 'events' "$man1" | tr '\n' ' ')" "newest first" "it says newest first, like --help"
like "$(grep -A0 '^\.B ping' "$man1")" "ping" "ping is documented"
like "$(tr '\n' ' ' <"$man1")" "at least 20" "the minimum of --width is documented"

# The quickstart build keeps autotools' talk in its log (defect 5).
sed -n '/^build() {/,/^}/p' "$top_srcdir/quickstart" >"$T/build.sh"
mkdir -p "$T/qs/bin"
for tool in autoreconf make; do
	printf '#!/bin/sh\necho "%s: installing build-aux/ar-lib" >&2\necho noise\n' "$tool" >"$T/qs/bin/$tool"
	chmod +x "$T/qs/bin/$tool"
done
printf '#!/bin/sh\necho "configure: noise" >&2\n' >"$T/qs/configure"
chmod +x "$T/qs/configure"
(cd "$T/qs" && PATH="$T/qs/bin:$PATH" top="$T/qs" sh -c ". '$T/build.sh'; build out") >"$T/qs.out" 2>&1
is "$?" "0" "quickstart's build succeeds with the stubs"
is "$(cat "$T/qs.out")" "quickstart: building in out (log: out/build.log)" \
	"and prints one line, not the tools' noise"
like "$(cat "$T/qs/out/build.log")" "installing build-aux/ar-lib" "which is in the log"

# ---- with a daemon ----
start_fakeapi
openai_config
start_daemon
fake POST /_fake/jobs '{"id": "ftjob-run1", "total_steps": 100000, "steps_per_second": 20}' >/dev/null
fake POST /_fake/jobs '{"id": "ftjob-done1", "total_steps": 20, "steps_per_second": 200}' >/dev/null
wait_until 20 sh -c "[ \"\$(sqlite3 '$DB' \"SELECT status FROM jobs WHERE external_id = 'ftjob-done1'\")\" = succeeded ] &&
	[ \"\$(sqlite3 '$DB' \"SELECT status FROM jobs WHERE external_id = 'ftjob-run1'\")\" = running ]"
ok $? "one job finished, one running"

ctl jobs --source nope >"$T/o" 2>"$T/e"
is "$?" "1" "jobs --source nope: exit 1"
like "$(cat "$T/e")" "no source named 'nope'; known: .*openai" "listing the known sources"
ctl jobs --status bogus >"$T/o" 2>"$T/e"
is "$?" "1" "jobs --status bogus: exit 1"
like "$(cat "$T/e")" "known: .*running" "listing the known statuses"
ctl --json jobs --status bogus >"$T/o" 2>/dev/null
is "$(jget "$(cat "$T/o")" '(j["ok"], j["error"]["code"])')" "(False, 'not_found')" \
	"--json: the daemon's error object on stdout"
ctl jobs --status paused >"$T/o" 2>"$T/e"
is "$?:$(cat "$T/o")" "0:no jobs" "a known status without jobs is not an error"

ctl show ftjob-done1 >"$T/show.txt"
is "$(grep -c 'estimated finish' "$T/show.txt")" "0" "show of a finished job: no estimated finish (defect 6)"
like "$(cat "$T/show.txt")" "best checkpoint: +step [0-9]+: (full_)?valid_loss=" "show: the best checkpoint"
ctl events ftjob-done1 >"$T/ev.txt"
like "$(head -1 "$T/ev.txt")" "^TIME +AGE +TYPE" "events: a time and an age column"
like "$(sed -n 2p "$T/ev.txt")" " (just now|[0-9]+s ago) " "events: relative times"
out=$(ctl status)
like "$out" "uptime:" "status: uptime"
like "$out" "jobs: +.*running" "status: jobs by status"

# forget
ctl forget ftjob-run1 >"$T/o" 2>"$T/e"
is "$?" "1" "forget of a running tracked job is refused"
like "$(cat "$T/e")" "untrack it first, or use force" "saying what to do"
is "$(sql "SELECT count(*) FROM jobs WHERE external_id = 'ftjob-run1'")" "1" "the job stays"
run_id=$(sql "SELECT id FROM jobs WHERE external_id = 'ftjob-done1'")
ctl forget ftjob-done1 >"$T/o" 2>"$T/e"
is "$?" "0" "forget of a finished job"
is "$(cat "$T/o")" "forgot openai/ftjob-done1 and all its rows" "confirms"
for table in jobs:id points:job_id latest_metrics:job_id events:job_id checkpoints:job_id; do
	is "$(sql "SELECT count(*) FROM ${table%%:*} WHERE ${table#*:} = $run_id")" "0" \
		"forget: no ${table%%:*} rows left"
done
ctl forget --force ftjob-run1 >"$T/o" 2>"$T/e"
is "$?" "0" "forget --force of a running job"
is "$(sql "SELECT count(*) FROM jobs WHERE external_id = 'ftjob-run1'")" "0" "it is gone"
check "the daemon is fine afterwards" ctl ping
# (The source discovers jobs, so ftjob-run1 may well come back as new.)
ctl forget ftjob-nosuch >"$T/o" 2>"$T/e"
is "$?" "1" "forget of an unknown job: exit 1"
like "$(cat "$T/e")" "not_found" "not found"
stop_daemon
is "$DAEMON_STATUS" "0" "the daemon stops cleanly"
done_testing
