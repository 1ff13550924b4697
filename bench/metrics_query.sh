#!/bin/sh
# metrics_query.sh: `ftmonctl metrics JOB --points 1000` over a job with
# 1,000,000 points per metric, against the same query run straight in
# sqlite3 (every point of each metric, in step order: what the daemon reads
# before it downsamples), in interleaved rounds; ratios are taken inside
# each round.  Target: the daemon's reply within 2x of the raw query.
# Two references: sqlite3 printing the rows (to /dev/null), and the
# stricter one, sqlite3 stepping through the same rows in the same order
# but printing only their sum (no text formatting at all).
#
#   bench/metrics_query.sh [BUILD_DIR]      (default: build; needs ftmond,
#                                            ftmonctl, sqlite3, python3)
# Environment: POINTS (per metric, default 1000000), METRICS (default 2),
# ROUNDS (default 5), KEEP=1 keeps the temporary directory.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)
POINTS=${POINTS:-1000000}
METRICS=${METRICS:-2}
ROUNDS=${ROUNDS:-5}
T=$(mktemp -d "${TMPDIR:-/tmp}/ftmon-bench.XXXXXX")
DB="$T/ftmon.db"
SOCK="$T/ftmon.sock"
trap '[ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; [ "${KEEP:-}" = 1 ] || rm -rf "$T"' EXIT

cat >"$T/ftmon.conf" <<CONF
[daemon]
database = $DB
socket = $SOCK
[source push]
type = push
CONF
"$build/ftmond" -c "$T/ftmon.conf" >"$T/ftmond.log" 2>&1 &
pid=$!
i=0
until "$build/ftmonctl" -s "$SOCK" ping >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 100 ] || { echo "ftmond did not start" >&2; cat "$T/ftmond.log" >&2; exit 1; }
	sleep 0.1
done

# The job and its points, written beside the running daemon (WAL).
seed_start=$(date +%s%N)
{
	echo "INSERT INTO jobs (source, external_id, status, discovered_at, updated_at, last_step)
	      VALUES ('push', 'run-bench', 'succeeded', 0, 0, $((POINTS - 1)));"
	m=1
	while [ $m -le "$METRICS" ]; do
		echo "INSERT INTO metric_names (name) VALUES ('metric_$m');
		BEGIN;
		WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < $((POINTS - 1)))
		INSERT INTO points SELECT 1, (SELECT id FROM metric_names WHERE name = 'metric_$m'), i,
		       1.0 + sin(i / 5000.0) + (abs(random()) % 1000) / 10000.0, 0 FROM s;
		INSERT INTO latest_metrics SELECT 1, id, $((POINTS - 1)), 1.0 FROM metric_names
		       WHERE name = 'metric_$m';
		COMMIT;"
		m=$((m + 1))
	done
} | sqlite3 "$DB"
seed_ms=$((($(date +%s%N) - seed_start) / 1000000))

# The raw reference: what store_query_metrics reads, one metric after another.
raw_sql="$T/raw.sql"
: >"$raw_sql"
m=1
while [ $m -le "$METRICS" ]; do
	echo "SELECT step, value FROM points WHERE job_id = 1 AND metric_id = (SELECT id FROM metric_names WHERE name = 'metric_$m') AND step BETWEEN -9223372036854775808 AND 9223372036854775807 ORDER BY step;" >>"$raw_sql"
	m=$((m + 1))
done
scan_sql="$T/scan.sql"
sed 's/^SELECT step, value FROM \(.*\);$/SELECT count(*), total(value) FROM (SELECT step, value FROM \1);/' \
	"$raw_sql" >"$scan_sql"

ms() { # ms CMD...: wall time of CMD in ms, its stdout discarded
	_s=$(date +%s%N)
	"$@" >/dev/null
	echo $((($(date +%s%N) - _s) / 1000000))
}
# One warm-up of each, so both read from the page cache.
ms "$build/ftmonctl" -s "$SOCK" --json metrics run-bench --points 1000 >/dev/null
ms sqlite3 "$DB" ".read $raw_sql" >/dev/null
ms sqlite3 "$DB" ".read $scan_sql" >/dev/null

echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo '?')" \
	"points/metric=$POINTS metrics=$METRICS seeded in ${seed_ms} ms; load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "round ftmonctl_ms sqlite3_print_ms sqlite3_scan_ms ratio_print ratio_scan"
r=1
while [ $r -le "$ROUNDS" ]; do
	a=$(ms "$build/ftmonctl" -s "$SOCK" --json metrics run-bench --points 1000)
	b=$(ms sqlite3 "$DB" ".read $raw_sql")
	c=$(ms sqlite3 "$DB" ".read $scan_sql")
	echo "$r $a $b $c $(python3 -c "print('%.2f %.2f' % ($a / max($b, 1), $a / max($c, 1)))")"
	r=$((r + 1))
done | tee "$T/rounds"
python3 - "$T/rounds" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
col = lambda i, f=int: [f(r[i]) for r in rows]
def show(name, v, fmt):
    print(("  %-16s median " + fmt + " [" + fmt + "-" + fmt + "]") % (name, statistics.median(v), min(v), max(v)))
print("medians [min-max]:")
show("ftmonctl ms", col(1), "%d")
show("sqlite3 print ms", col(2), "%d")
show("sqlite3 scan ms", col(3), "%d")
show("ratio to print", col(4, float), "%.2f")
show("ratio to scan", col(5, float), "%.2f")
PY
# The reply is the downsampled curve: check its shape once.
"$build/ftmonctl" -s "$SOCK" --json metrics run-bench --points 1000 | python3 -c '
import json, sys
j = json.load(sys.stdin)
print("reply: " + ", ".join("%s %d points, steps %d..%d" % (k, len(v), v[0][0], v[-1][0]) for k, v in j.items()))'
