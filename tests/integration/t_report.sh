#!/bin/sh
# report JOB... -o FILE.html against the real daemon: one self-contained
# file (no scripts, nothing fetched), hostile names escaped, and rendered in
# headless Chromium to a PNG whose pixels are checked where the data says
# the curves, the best checkpoint and the accuracy curve must be.
. "$(dirname "$0")/lib.sh"

write_config "socket_mode = 0666
[source push]
type = push"
start_daemon

# run-report: train_loss 2.0 -> 1.0 over steps 0..100, valid_loss 1.3
# every 10 steps with a NaN at 50 and its best, 1.25, at 80, train_accuracy 0.5 -> 0.9, two
# checkpoints (the best: step 80), a spike alert at step 30.
sql "INSERT INTO jobs (source, external_id, status, model, fine_tuned_model, discovered_at,
	updated_at, created_at, finished_at, last_step, total_steps)
	VALUES ('push', 'run-report', 'succeeded', 'gpt-4o-mini', 'ft:gpt-4o-mini:acme::x1',
	strftime('%s'), strftime('%s'), strftime('%s') - 3600, strftime('%s') - 60, 100, 100);
INSERT INTO jobs (source, external_id, status, discovered_at, updated_at)
	VALUES ('push', 'run-<b>x</b>', 'running', strftime('%s'), strftime('%s'));
INSERT INTO metric_names (name) VALUES ('train_loss'), ('valid_loss'), ('train_accuracy');
WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < 100)
INSERT INTO points SELECT 1, 1, i, 2.0 - i / 100.0, 0 FROM s;
WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 10 FROM s WHERE i < 100)
INSERT INTO points SELECT 1, 2, i, CASE WHEN i = 50 THEN NULL WHEN i = 80 THEN 1.25 ELSE 1.3 END, 0 FROM s;
WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < 100)
INSERT INTO points SELECT 1, 3, i, 0.5 + 0.004 * i, 0 FROM s;
INSERT INTO latest_metrics SELECT job_id, metric_id, step, value FROM points p
	WHERE step = (SELECT max(step) FROM points q
	              WHERE q.job_id = p.job_id AND q.metric_id = p.metric_id);
INSERT INTO checkpoints VALUES (1, 'ftckpt-40', 40, 'ft:m:ckpt-step-40', '{\"valid_loss\": 1.3}', 1),
	(1, 'ftckpt-80', 80, 'ft:m:ckpt-step-80', '{\"valid_loss\": 1.25}', 2);
INSERT INTO alerts (job_id, source, job, rule, metric, state, value, step, message, fired_at)
	VALUES (1, 'push', 'run-report', 'spike', 'train_loss', 'firing', 1.7, 30,
	'train_loss <i>jumped</i>', strftime('%s'));" || bail "cannot seed the database"

out="$T/report.html"
ctl report run-report 'push/run-<b>x</b>' -o "$out" >"$T/out" 2>"$T/err"
is "$?" "0" "report exits 0"
like "$(cat "$T/out")" "^wrote $out: 2 jobs, [0-9.]+ KiB$" "and says what it wrote"
check "the file is there" test -s "$out"
ok "$(grep -qi '<script' "$out"; [ $? -ne 0 ]; echo $?)" "no script"
ok "$(grep -Eqi 'https?:|url\(|@import|<link|<img|<iframe|<object' "$out"; [ $? -ne 0 ]; echo $?)" \
	"nothing from the network: no URL, link, import, image or frame"
like "$(cat "$out")" 'run-&lt;b&gt;x&lt;/b&gt;' "a hostile job name is escaped"
ok "$(grep -q '<b>x</b>\|<i>jumped' "$out"; [ $? -ne 0 ]; echo $?)" "no markup from the daemon's text"
is "$(grep -c '<svg ' "$out")" "2" "two charts: loss and accuracy (the other job has no points)"
like "$(cat "$out")" 'ft:m:ckpt-step-80 at step 80, valid_loss 1.25' "the best checkpoint in the summary (the daemon's best_checkpoint)"
like "$(cat "$out")" '<td class="firing">firing</td>' "the alert listed as firing"
ls "$T"/report.html.tmp* >/dev/null 2>&1
ok "$([ $? -ne 0 ]; echo $?)" "no temporary file left behind"

is "$(ctl --json report run-report -o "$T/r2.html" | "$PYTHON3" -c 'import json,sys; j=json.load(sys.stdin); print(j["jobs"], j["bytes"] > 1000)')" \
	"1 True" "--json report: what was written"
# 40 jobs are 80 requests: each must close its connection (16 descriptors).
many=$(i=0; while [ $i -lt 40 ]; do printf 'run-report '; i=$((i + 1)); done)
# shellcheck disable=SC2086
(ulimit -n 16 && ctl report $many -o "$T/many.html") >"$T/out" 2>"$T/err"
is "$?" "0" "a report of 40 jobs within 16 file descriptors"
ctl report run-report >"$T/out" 2>"$T/err"
is "$?" "2" "report without -o is a usage error"
ctl report run-nosuch -o "$T/r3.html" >"$T/out" 2>"$T/err"
is "$?" "1" "report of an unknown job exits 1"
check "and writes nothing" test ! -e "$T/r3.html"
ctl report run-report -o "$T/nodir/r.html" >"$T/out" 2>"$T/err"
is "$?" "1" "an unwritable output exits 1"
like "$(cat "$T/err")" "cannot write $T/nodir/r.html" "naming the file"

# ---- rendered in a real browser ----
chromium=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chromium" ]; then
	diag "SKIP: chromium is not installed (Debian package chromium); the rendering checks did not run"
	ok 0 "# SKIP chromium not installed"
else
	ctl report run-report -o "$out" >/dev/null
	# --no-sandbox: the sandbox refuses to run as root; a private profile
	# and HOME keep the run away from the user's; small containers have a
	# small /dev/shm.
	HOME="$T" timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
		--hide-scrollbars --force-device-scale-factor=1 --user-data-dir="$T/chrome" \
		--window-size=800,1300 --screenshot="$T/report.png" "file://$out" \
		>"$T/chromium.log" 2>&1
	check "chromium rendered the page to a PNG" test -s "$T/report.png"
	cat >"$T/checks.json" <<'JSON'
{"area_fill": "#f4f7fb", "charts": [
 {"x": [0, 100], "y": [1, 2],
  "curves": [{"color": "#1f77b4", "points": [[10, 1.9], [60, 1.4], [90, 1.1]]},
             {"color": "#d62728", "points": [[20, 1.3], [90, 1.3]]}],
  "rings": [{"color": "#111111", "at": [80, 1.25]}, {"color": "#b00020", "at": [30, 1.7]}]},
 {"x": [0, 100], "y": [0.5, 0.9],
  "curves": [{"color": "#1f77b4", "points": [[25, 0.6], [75, 0.8]]}]}]}
JSON
	"$PYTHON3" "$HELPERS/pngcheck.py" "$T/report.png" 800 1300 "$T/checks.json" >"$T/png.tap"
	pst=$?
	sed 's/^/# /' "$T/png.tap"
	ok $pst "the PNG: right size, not blank, curves, alert and best checkpoint where the data says"
	# The checker must see a curve that is not where the data says.
	sed 's/\[90, 1.1\]/[90, 1.9]/' "$T/checks.json" >"$T/wrong.json"
	"$PYTHON3" "$HELPERS/pngcheck.py" "$T/report.png" 800 1300 "$T/wrong.json" >"$T/wrong.tap"
	is "$?:$(grep -c '^not ok' "$T/wrong.tap")" "1:2" \
		"and it fails on a point moved to where no curve is"
fi

stop_daemon
done_testing
