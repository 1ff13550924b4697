#!/bin/sh
# Curves and queries through ftmonctl against the real daemon: plot (ASCII
# and braille by locale, panels without colour, colour only on a terminal
# and not with NO_COLOR, widths 60/80/200, round ticks, the downsampling
# note, --log, --json), metrics (--since/--until/--points/--csv), unknown
# metrics and empty ranges as errors, and job references.
. "$(dirname "$0")/lib.sh"

write_config "socket_mode = 0666
[source push]
type = push"
start_daemon

# run-curves: 240 train_loss points, 24 valid_loss, 240 train_accuracy,
# lr with a zero, neg with nothing positive, and a metric named "a,b".
sql "INSERT INTO jobs (source, external_id, status, model, discovered_at, updated_at,
	created_at, finished_at, last_step, total_steps)
	VALUES ('push', 'run-curves', 'succeeded', 'gpt-4o-mini', strftime('%s'), strftime('%s'),
	strftime('%s') - 3600, strftime('%s') - 60, 239, 240);
INSERT INTO jobs (source, external_id, status, discovered_at, updated_at, last_step)
	VALUES ('push', 'run-cx', 'running', strftime('%s'), strftime('%s'), 0);
INSERT INTO metric_names (name) VALUES ('train_loss'), ('valid_loss'), ('train_accuracy'),
	('lr'), ('neg'), ('a,b');
WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < 239)
INSERT INTO points SELECT 1, 1, i, 2.5 * exp(-i / 60.0) + 0.3, 0 FROM s;
WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 10 FROM s WHERE i < 230)
INSERT INTO points SELECT 1, 2, i, 2.6 * exp(-i / 80.0) + 0.5, 0 FROM s;
WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < 239)
INSERT INTO points SELECT 1, 3, i, 0.9 - 0.5 * exp(-i / 50.0), 0 FROM s;
INSERT INTO points VALUES (1, 4, 0, 0.01, 0), (1, 4, 1, 0.001, 0), (1, 4, 2, 0, 0),
	(1, 4, 3, 0.0001, 0), (1, 5, 0, 0, 0), (1, 5, 1, -1, 0), (1, 6, 0, 1.5, 0);
UPDATE points SET value = 9.5 WHERE metric_id = 1 AND step = 100;
INSERT INTO latest_metrics SELECT job_id, metric_id, step, value FROM points p
	WHERE step = (SELECT max(step) FROM points q
	              WHERE q.job_id = p.job_id AND q.metric_id = p.metric_id);" || bail "cannot seed the database"

# widest visible line (ANSI escapes not counted) of stdin
maxwidth() {
	"$PYTHON3" -c '
import re, sys
print(max(len(re.sub(r"\x1b\[[0-9;]*m", "", l.rstrip("\n"))) for l in sys.stdin))'
}

# ---- plot, piped: no colour, panels, ASCII in the C locale ----
LC_ALL=C ctl plot run-curves --width 80 --height 12 >"$T/plot" 2>"$T/err"
is "$?" "0" "plot exits 0"
like "$(cat "$T/plot")" '  \* train_loss  240 points, 160 drawn, last' \
	"legend: 240 points, 160 drawn (two points per column of 80)"
like "$(cat "$T/plot")" '  \+ valid_loss  24 points, last' "legend: valid_loss whole"
ok "$(grep -c 'train_accuracy' "$T/plot" | grep -qx 0; echo $?)" "by default only the losses"
is "$(grep -c '^ *[*+] \(train\|valid\)_loss$' "$T/plot")" "2" \
	"without colour each curve has its own titled panel"
ok "$(LC_ALL=C grep -q "$(printf '\033')" "$T/plot"; [ $? -ne 0 ]; echo $?)" "piped: no colour"
ok "$(LC_ALL=C grep -q '[^ -~]' "$T/plot"; [ $? -ne 0 ]; echo $?)" "C locale: ASCII only"
is "$(maxwidth <"$T/plot")" "80" "plot fills --width 80 and no more"
like "$(sed -n '/^ *++-/{n;p}' "$T/plot")" '^ +0 +50 +100 +150 +200 +250$' "x ticks: round whole steps"
is "$(sed -n '2,7p' "$T/plot" | sed -n 's/^ *\([0-9.]*\) +.*/\1/p' | tr '\n' ' ')" \
	"10 5 0 " "y ticks: round numbers (the 9.5 spike makes it 0..10)"
is "$(sed -n '9,14p' "$T/plot" | sed -n 's/^ *\([0-9.]*\) +.*/\1/p' | tr '\n' ' ')" \
	"4 2 0 " "each panel has its own y axis"

for w in 60 200; do
	LC_ALL=C.UTF-8 ctl plot run-curves --width $w >"$T/plot$w"
	is "$(maxwidth <"$T/plot$w")" "$w" "plot --width $w fits $w columns"
done
like "$(cat "$T/plot200")" '240 points, 240 drawn|240 points, last' "at 200 columns nothing is dropped"
LC_ALL=C.UTF-8 ctl plot run-curves -m train_loss --width 60 >"$T/br"
like "$(cat "$T/br")" "$(printf '\342\240')|$(printf '\342\243')" "UTF-8 locale: braille"
like "$(cat "$T/br")" '└' "UTF-8 locale: box-drawing axes"

# ---- colour only on a terminal (script(1) gives a pty) ----
if command -v script >/dev/null; then
	script -qec "env LC_ALL=C.UTF-8 TERM=xterm $FTMONCTL -s $SOCK plot run-curves --width 80" \
		/dev/null >"$T/tty" 2>&1
	like "$(cat "$T/tty")" "$(printf '\033')\[34m" "on a terminal: colour"
	is "$(grep -c '^ *⣿ \(train\|valid\)_loss$' "$T/tty")" "0" "with colour: one chart, no panels"
	script -qec "env NO_COLOR=1 LC_ALL=C.UTF-8 $FTMONCTL -s $SOCK plot run-curves --width 80" \
		/dev/null >"$T/tty2" 2>&1
	ok "$(LC_ALL=C grep -q "$(printf '\033')\[3" "$T/tty2"; [ $? -ne 0 ]; echo $?)" \
		"on a terminal with NO_COLOR: no colour"
else
	ok 0 "# SKIP script(1) not installed"
fi

# ---- plot --json: exactly what is drawn ----
pj=$(ctl --json plot run-curves --width 80)
mj=$(ctl --json metrics run-curves -m train_loss -m valid_loss --points 160)
is "$("$PYTHON3" -c '
import json, sys
p, m = json.loads(sys.argv[1]), json.loads(sys.argv[2])
ok = [s["metric"] for s in p["series"]] == ["train_loss", "valid_loss"]
ok = ok and all(s["data"] == m[s["metric"]] and s["drawn"] == len(s["data"]) for s in p["series"])
print(ok, p["series"][0]["points"], p["series"][0]["drawn"])' "$pj" "$mj")" "True 240 160" \
	"--json plot: the series drawn, the stored count and the drawn count"

# ---- --log ----
LC_ALL=C ctl plot run-curves -m lr --log --width 60 >"$T/log"
like "$(cat "$T/log")" 'lr  4 points, 3 drawn, last 0.0001, 1 <= 0 skipped' "--log skips the zero and says so"
like "$(cat "$T/log")" '^ *0\.01 \+' "--log ticks are decades"
is "$(ctl --json plot run-curves -m lr --log | "$PYTHON3" -c 'import json,sys; print(json.load(sys.stdin)["series"][0]["data"])')" \
	"[[0, 0.01], [1, 0.001], [3, 0.0001]]" "--json --log: the drawn points only"
ctl plot run-curves -m neg --log >"$T/out" 2>"$T/err"
is "$?" "1" "--log with nothing positive exits 1"
like "$(cat "$T/err")" 'no positive value' "and says why"

# ---- unknown metrics, ranges, minimums (client defect 2) ----
for cmd in plot metrics; do
	ctl $cmd run-curves -m nosuch >"$T/out" 2>"$T/err"
	is "$?" "1" "$cmd -m nosuch exits 1"
	like "$(cat "$T/err")" "no metric 'nosuch'.*known: a,b, lr, neg, train_accuracy, train_loss, valid_loss" \
		"$cmd -m nosuch lists the known metrics"
done
ctl metrics run-curves --since 10 --until 5 >"$T/out" 2>"$T/err"
is "$?" "2" "metrics --since 10 --until 5 is a usage error"
like "$(cat "$T/err")" 'range is empty' "saying the range is empty"
ctl metrics run-curves --points 3 >"$T/out" 2>"$T/err"
is "$?" "2" "metrics --points 3 is below the minimum"
ctl plot run-curves --width 19 >"$T/out" 2>"$T/err"
is "$?" "2" "plot --width 19 is below the minimum"

# ---- metrics ----
# shortest round-trip text of the stored value, as Python's repr gives it
val() { "$PYTHON3" -c "import sys; print(repr(float(sys.argv[1])))" "$(sql "SELECT printf('%.17g', value) FROM points WHERE metric_id = $1 AND step = $2")"; }
is "$(ctl metrics run-curves -m valid_loss -m 'a,b' --until 10 --csv)" "step,metric,value
0,\"a,b\",1.5
0,valid_loss,3.1
10,valid_loss,$(val 2 10)" "metrics --csv: step,metric,value rows, RFC 4180 quoting, exact values"
is "$(ctl --json metrics run-curves -m train_loss --since 100 --until 102 | "$PYTHON3" -c 'import json,sys; print([s for s, v in json.load(sys.stdin)["train_loss"]])')" \
	"[100, 101, 102]" "--since and --until bound the steps"
is "$(ctl --json metrics run-curves -m train_loss --points 10 | "$PYTHON3" -c '
import json, sys
p = json.load(sys.stdin)["train_loss"]
v = [x[1] for x in p]
print(len(p) <= 10, p[0][0], p[-1][0], 9.5 in v, min(v) == v[-1])')" "True 0 239 True True" \
	"metrics --points 10: first, last, the spike and the minimum kept"
like "$(ctl metrics run-curves -m train_loss --until 1)" '^STEP +train_loss' "metrics table header"

# ---- job references ----
is "$(jget "$(ctl --json show run-cu)" 'j["name"]')" "push/run-curves" "a unique prefix"
ctl show run-c >"$T/out" 2>"$T/err"
is "$?" "1" "an ambiguous prefix exits 1"
like "$(cat "$T/err")" 'push/run-curves.*push/run-cx' "and lists the candidates"
ctl untrack run-c >"$T/out" 2>"$T/err"
like "$(cat "$T/err")" 'ambiguous.*push/run-curves, push/run-cx' "untrack: the same resolver"
ctl track run-c >"$T/out" 2>"$T/err"
like "$(cat "$T/err")" 'ambiguous.*push/run-curves, push/run-cx' "track: the same resolver"
ctl track run-cx >"$T/out" 2>"$T/err"
like "$(cat "$T/err")" "source 'push' does not track" "track by a unique id finds the job's source"

stop_daemon
done_testing
