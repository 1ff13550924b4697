#!/bin/sh
# jsonl source across kill -9: a large history file is ingested once
# without interruption (the reference), and again with ftmond killed -9
# three times in the middle of it; both end with exactly the same points,
# bad-line counts, job status and events, and a clean restart reads
# nothing again.  While the large file is read, `ping` is answered.
. "$(dirname "$0")/lib.sh"

RUNS="$T/runs"
mkdir -p "$RUNS/big"
BIG="$RUNS/big/metrics.jsonl"
LINES=150000
# The history: LINES steps of three metrics, a bad line every 10,000 and
# a final status (generated: a real trainer would take minutes to write it).
"$PYTHON3" - "$BIG" "$LINES" <<'PY'
import json, math, sys
out, n = sys.argv[1], int(sys.argv[2])
with open(out, "w") as f:
    for s in range(1, n + 1):
        f.write(json.dumps({"step": s, "train_loss": 2 * math.exp(-s / 5e4) + (s % 7) * 1e-3,
                            "valid_loss": float("nan") if s % 5000 == 0 else 2.1 * math.exp(-s / 6e4),
                            "epoch": s / 1000}) + "\n")
        if s % 10000 == 0:
            f.write('{"step": -1, "bad": 1}\n')
    f.write('{"status": "succeeded"}\n')
PY
SIZE=$(stat -c %s "$BIG")
TOTAL=$((LINES * 3))

file_offset() {
	jget "$(ctl --json status)" "j['sources'][0]['file_list'][0]['offset'] if j['sources'][0]['file_list'] else 0"
}
stored() { sql "SELECT count(*) FROM points"; }
all_stored() { [ "$(file_offset)" = "$SIZE" ]; }
stored_ge() { [ "$(stored)" -ge "$1" ]; }
dump() {
	sql "SELECT job, metric, step, quote(value) FROM metric_points ORDER BY 1, 2, 3" | md5sum
	sql "SELECT external_id, status, last_step FROM jobs ORDER BY 1"
	sql "SELECT count, last_line, last_reason FROM job_bad_lines"
	sql "SELECT type, count(*) FROM events GROUP BY type ORDER BY type"
	sql "SELECT generation, offset, line FROM jsonl_files"
}
config() {
	write_config "[source lab]
type = jsonl
path = $RUNS/*/metrics.jsonl"
}

# The reference: one uninterrupted run, with pings while it reads.
DB="$T/ref.db"
config
start_daemon
pinged=0
i=0
while [ $i -lt 50 ] && [ $pinged -eq 0 ]; do
	before=$(file_offset)
	if ctl ping >/dev/null; then
		after=$(file_offset)
		[ "$after" -lt "$SIZE" ] && [ "$after" -gt 0 ] && pinged=1
	fi
	i=$((i + 1))
done
is "$pinged" "1" "ping is answered while the large file is being read"
wait_until 60 all_stored
ok $? "the reference run reads the whole file"
is "$(sql "SELECT count(*) FROM points")" "$TOTAL" "$TOTAL points"
stop_daemon
REF=$(dump)

# The same file, ftmond killed -9 three times in the middle of reading it.
DB="$T/ftmon.db"
config
for quarter in 1 2 3; do
	start_daemon
	wait_until 60 stored_ge $((TOTAL * quarter / 4))
	ok $? "run $quarter: a quarter more stored"
	stop_daemon KILL
	n=$(stored)
	diag "killed -9 with $n of $TOTAL points stored"
	[ "$n" -lt "$TOTAL" ] || diag "(the ingest finished before the kill)"
done
start_daemon
wait_until 60 all_stored
ok $? "after three kill -9 the file is read to its end"
stop_daemon
is "$(dump)" "$REF" "exactly the reference's points, bad lines, status, events and offset"

# A clean restart reads nothing again: it resumes at the committed offset.
start_daemon
wait_until 30 all_stored
is "$(jget "$(ctl --json status)" 'j["sources"][0]["lines"]')" "0" \
	"a restart re-reads no line"
is "$(sql "SELECT count(*) FROM points")" "$TOTAL" "and stores nothing twice"
stop_daemon
is "$DAEMON_STATUS" "0" "ftmond stops cleanly"
done_testing
