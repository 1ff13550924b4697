#!/bin/sh
# watch against the real daemon and the fake API: piped, one JSON line per
# stream line (points coalesced per job and step, job.* events), --json
# the same, a job's stream only that job's lines; on a terminal (a pty) a
# board redrawn in place with progress, in colour unless NO_COLOR, Ctrl-C
# exits 0 with the cursor shown again; the daemon going away is exit 3.
# Tables are coloured only on a terminal.
. "$(dirname "$0")/lib.sh"

PTYRUN="$PYTHON3 $HELPERS/ptyrun.py"
start_fakeapi
openai_config
start_daemon
# Two slow jobs: 100000 steps at 20 steps/s, so they run for the whole test.
for id in ftjob-wa ftjob-wb; do
	fake POST /_fake/jobs "{\"id\": \"$id\", \"total_steps\": 100000, \"steps_per_second\": 20, \"sample_every\": 1}" >/dev/null
done
wait_until 20 sh -c "[ \$(sqlite3 '$DB' \"SELECT count(*) FROM jobs WHERE status = 'running'\") -ge 2 ]"
ok $? "both jobs run"

# ---- piped ----
# Not through ctl(): $! must be ftmonctl itself, not a subshell.
"$FTMONCTL" -s "$SOCK" watch >"$T/w.out" 2>"$T/w.err" &
W=$!
wait_until 10 sh -c "grep -q '\"event\":\"points\".*ftjob-wa' '$T/w.out' && grep -q '\"event\":\"points\".*ftjob-wb' '$T/w.out'"
ok $? "piped: points lines of both jobs arrive"
kill -TERM $W
wait $W
is "$?" "0" "piped: a signal ends it with status 0"
check "piped: every line is one JSON object" "$PYTHON3" -c '
import json, sys
n = 0
for line in open(sys.argv[1]):
    o = json.loads(line)
    assert isinstance(o, dict) and "event" in o and "job" in o, line
    n += 1
assert n > 0' "$T/w.out"
check "piped: a points line carries step, total_steps and metrics" "$PYTHON3" -c '
import json, sys
for line in open(sys.argv[1]):
    o = json.loads(line)
    if o["event"] == "points":
        assert o["total_steps"] == 100000 and o["step"] >= 1 and o["points"] >= 1, o
        assert "train_loss" in o["metrics"], o
        break
else:
    raise SystemExit("no points line")' "$T/w.out"
is "$(grep -c '"ok"' "$T/w.out")" "0" "piped: the acknowledgement is not printed"

"$FTMONCTL" -s "$SOCK" --json watch ftjob-wb >"$T/wb.out" 2>"$T/wb.err" &
W=$!
wait_until 10 sh -c "[ \$(grep -c points '$T/wb.out') -ge 3 ]"
ok $? "watch JOB: lines arrive"
kill -TERM $W
wait $W
is "$?" "0" "watch JOB: a signal ends it with status 0"
is "$(grep -c 'ftjob-wa' "$T/wb.out")" "0" "watch JOB: only that job's lines"
ctl watch nosuchjob >/dev/null 2>"$T/nj.err"
is "$?" "1" "watch of an unknown job exits 1"
like "$(cat "$T/nj.err")" "not_found" "and says why"

# ---- on a terminal ----
TERM=xterm $PTYRUN --cols 100 --rows 20 --out "$T/board.raw" --until '(?s)ftjob-wb.*ftjob-wa.*ftmon watch|ftjob-wa.*ftjob-wb.*ftmon watch' \
	--interrupt -- "$FTMONCTL" -s "$SOCK" watch
is "$?" "0" "board: Ctrl-C exits 0"
check "board: one line per running job with a progress bar and step/total" "$PYTHON3" -c '
import re, sys
t = open(sys.argv[1], "rb").read().decode("utf-8", "replace")
plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", t)
for job in ("ftjob-wa", "ftjob-wb"):
    # [####----] in ASCII, or block characters in a UTF-8 locale
    assert re.search(job + r" +(\[[#-]{16}\]|[\u2588\u2591]{16}) [0-9]+/100000", plain), plain[-2000:]
' "$T/board.raw"
check "board: redrawn in place (cursor up, clear), not scrolled" "$PYTHON3" -c '
import sys
t = open(sys.argv[1], "rb").read()
assert b"\x1b[J" in t and b"A\x1b[J" in t, t[-500:]
assert t.count(b"ftmon watch:") >= 2, t[-500:]
' "$T/board.raw"
check "board: the cursor is hidden, then shown again at the end" "$PYTHON3" -c '
import sys
t = open(sys.argv[1], "rb").read()
assert t.find(b"\x1b[?25l") >= 0 and t.rstrip().endswith(b"\x1b[?25h"), t[-200:]
' "$T/board.raw"
like "$(cat "$T/board.raw")" "$(printf '\033')\\[32m" "board: a green dot for a running job"
check "board: at most a few redraws a second" "$PYTHON3" -c '
import sys
t = open(sys.argv[1], "rb").read()
# 20 steps/s per job would be 40 redraws a second if each line drew.
assert t.count(b"ftmon watch:") <= 40, t.count(b"ftmon watch:")
' "$T/board.raw"
NO_COLOR=1 TERM=xterm $PTYRUN --cols 100 --out "$T/nocolor.raw" --until 'ftjob-w' --interrupt \
	-- "$FTMONCTL" -s "$SOCK" watch
is "$?" "0" "board with NO_COLOR: exits 0"
is "$(grep -c "$(printf '\033')\\[3[0-9]m" "$T/nocolor.raw")" "0" "board with NO_COLOR: no colour"

# ---- colour only on a terminal ----
# Until a status word, not the job's name: a name may be cut in the middle
# to fit 120 columns (it was, when the ETA column came out wide).
TERM=xterm $PTYRUN --cols 120 --out "$T/jobs.raw" --until 'running|succeeded|queued' -- \
	"$FTMONCTL" -s "$SOCK" jobs
is "$?" "0" "jobs on a terminal"
like "$(cat "$T/jobs.raw")" "$(printf '\033')\\[32m" "jobs on a terminal: the status is coloured"
TERM=xterm ctl jobs >"$T/jobs.txt"
is "$(grep -c "$(printf '\033')" "$T/jobs.txt")" "0" "jobs into a pipe: no escape at all"
for cols in 60 80 200; do
	COLUMNS=$cols ctl jobs >"$T/jobs$cols.txt"
	check "jobs with COLUMNS=$cols fits $cols columns" "$PYTHON3" -c '
import sys
w = int(sys.argv[2])
for line in open(sys.argv[1], encoding="utf-8"):
    assert len(line.rstrip("\n")) <= w, line' "$T/jobs$cols.txt" $cols
	like "$(cat "$T/jobs$cols.txt")" "running" "jobs with COLUMNS=$cols still shows the status"
done
like "$(cat "$T/jobs200.txt")" "UPDATED" "jobs at 200 columns has every column"

# ---- the daemon going away ----
"$FTMONCTL" -s "$SOCK" watch >"$T/gone.out" 2>"$T/gone.err" &
W=$!
wait_until 10 test -s "$T/gone.out"
stop_daemon
wait $W
is "$?" "3" "the daemon going away: exit 3"
like "$(cat "$T/gone.err")" "closed the watch stream" "with a message"
done_testing
