#!/bin/sh
# Events pages parsed in the thread pool (issue 12) while their job goes
# away: `forget --force` of a job whose big pages keep coming, then SIGTERM
# with another such job's parse likely in flight.  The watch orphans its
# parse, the after-callback frees it; under the sanitizer build any use of
# the freed watch or source aborts the daemon, so its exit status is the
# check.
. "$(dirname "$0")/lib.sh"

start_fakeapi
OPENAI_POLL=100ms openai_config
start_daemon

for id in flood1 flood2; do
	fake POST /_fake/jobs "{\"id\": \"ftjob-$id\", \"total_steps\": 300, \"steps_per_second\": 10}" >/dev/null
done
has_cursor() { [ -n "$(sql "SELECT event_cursor FROM jobs WHERE external_id = '$1'")" ]; }
wait_until 15 has_cursor ftjob-flood1 && wait_until 15 has_cursor ftjob-flood2
ok $? "both jobs are stored before the fault"
for id in flood1 flood2; do
	fake POST /_fake/fault "{\"match\": \"ftjob-$id/events\", \"kind\": \"endless_events\", \"per_page\": 2000, \"times\": 1000000000}" >/dev/null
done
parsed() { jget "$(ctl --json status)" 'j["sources"][0]["counters"]["pages_parsed_off_loop"]'; }
parsed_ge() { [ "$(parsed)" -ge "$1" ] 2>/dev/null; }
wait_until 20 parsed_ge 6
ok $? "the flood's pages are parsed off the loop ($(parsed))"

# Forget one job over and over while its pages keep arriving and parsing.
n0=$(parsed)
forgot=0
for i in 1 2 3 4 5; do
	ctl forget --force openai/ftjob-flood1 >/dev/null 2>&1 && forgot=$((forgot + 1))
	ctl track ftjob-flood1 >/dev/null 2>&1
	wait_until 10 parsed_ge $((n0 + i * 2)) || break
done
is "$forgot" "5" "the job was forgotten (and tracked again) five times"
is "$(ctl ping 2>&1)" "pong" "the daemon answers after forgetting jobs mid-parse"

# Stop while the other job's pages are still being parsed.
wait_until 10 parsed_ge $(($(parsed) + 2))
stop_daemon TERM
is "$DAEMON_STATUS" "0" "SIGTERM with parses in flight exits 0"
done_testing
