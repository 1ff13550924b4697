#!/bin/bash
# jsonl_ingest.sh -- how fast ftmond's jsonl source stores a large JSONL
# history, against a straightforward Python ingester and the raw SQLite
# insert ceiling, measured in the same interleaved rounds.  See
# bench/README.md ("JSONL ingest").
#
#   bench/jsonl_ingest.sh
#
# Knobs, from the environment:
#   R=5            rounds (each: ftmond, Python, C ceiling, one after another)
#   LINES=1000000  lines of the file, three metrics each
#   BUILD_DIR=     an already built tree holding ftmond and ftmonctl
#                  (default: /tmp/ftmon-bench-jsonl-build, configured -O2)
#   BENCH_WORK=    work directory (default: a new /tmp/ftmon-jsonl.XXXXXX);
#                  the generated file is reused when found there
#   PROFILE=1      also record one extra ftmond run with perf (perf.data in
#                  the work directory) and print the top of its report
#   PYTHON=python3
# Prints one line per run and a summary: medians [min-max] and the ratios
# taken inside each round; peak RSS is ftmond's VmHWM.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(dirname "$HERE")
R=${R:-5}
LINES=${LINES:-1000000}
PYTHON=${PYTHON:-python3}
WORK=${BENCH_WORK:-$(mktemp -d /tmp/ftmon-jsonl.XXXXXX)}
mkdir -p "$WORK"
DAEMON=

cleanup() { [ -z "$DAEMON" ] || kill "$DAEMON" 2>/dev/null || true; }
trap cleanup EXIT

if [ -z "${BUILD_DIR:-}" ]; then
	BUILD_DIR=/tmp/ftmon-bench-jsonl-build
	if [ ! -x "$BUILD_DIR/ftmond" ]; then
		(cd "$TOP" && autoreconf -fi >/dev/null 2>&1)
		mkdir -p "$BUILD_DIR"
		(cd "$BUILD_DIR" && "$TOP/configure" -q CFLAGS="-O2 -g" >/dev/null && make -j2 >/dev/null)
	fi
fi
FTMOND=$BUILD_DIR/ftmond
FTMONCTL=$BUILD_DIR/ftmonctl
cc -O2 -o "$WORK/sqlite_ceiling" "$HERE/sqlite_ceiling.c" -lsqlite3

# The file: LINES steps of train_loss, valid_loss and epoch, as json.dumps
# writes them.
FILE=$WORK/runs/big/metrics.jsonl
if [ ! -s "$FILE" ]; then
	mkdir -p "$(dirname "$FILE")"
	"$PYTHON" - "$FILE" "$LINES" <<'PY'
import json, math, sys
with open(sys.argv[1], "w") as f:
    for s in range(1, int(sys.argv[2]) + 1):
        f.write(json.dumps({"step": s, "train_loss": 2 * math.exp(-s / 3e5) + (s % 7) * 1e-3,
                            "valid_loss": 2.1 * math.exp(-s / 4e5), "epoch": s / 1000}) + "\n")
PY
fi
SIZE=$(stat -c %s "$FILE")
ROWS=$((LINES * 3))
echo "# $(date -u +%FT%TZ) $(git -C "$TOP" rev-parse --short HEAD) lines=$LINES rows=$ROWS bytes=$SIZE"
echo "# load before: $(cut -d' ' -f1-3 /proc/loadavg)"

now() { date +%s.%N; }

# One ftmond run: start on an empty database, poll status until the file's
# offset is its size; prints "ftmond ROWS SECONDS ROWS_PER_S PEAK_KIB".
run_ftmond() {
	local d=$WORK/ftmond t0 t1 off=0 hwm cpu wrap=${1:-}
	rm -rf "$d" && mkdir -p "$d"
	cat >"$d/ftmon.conf" <<EOC
[daemon]
database = $d/ftmon.db
socket = $d/ftmon.sock
log_level = notice
[source lab]
type = jsonl
path = $WORK/runs/*/metrics.jsonl
EOC
	t0=$(now)
	$wrap "$FTMOND" -c "$d/ftmon.conf" >"$d/ftmond.log" 2>&1 &
	DAEMON=$!
	# One waiter process asking `status` over the socket every 20 ms: a
	# new ftmonctl + python per poll would take CPU from ftmond.
	off=$("$PYTHON" - "$d/ftmon.sock" "$SIZE" <<'PY'
import json, socket, sys, time
path, size, off = sys.argv[1], int(sys.argv[2]), 0
end = time.monotonic() + 600
while time.monotonic() < end:
    try:
        s = socket.socket(socket.AF_UNIX)
        s.connect(path)
        s.sendall(b'{"id": 1, "cmd": "status", "v": 1}\n')
        buf = b""
        while not buf.endswith(b"\n"):
            c = s.recv(1 << 20)
            if not c:
                break
            buf += c
        s.close()
        r = json.loads(buf)
        l = r["result"]["sources"][0]["file_list"]
        off = l[0]["offset"] if l else 0
        if off == size:
            break
    except (OSError, ValueError, KeyError, IndexError):
        pass
    time.sleep(0.02)
print(off)
PY
)
	t1=$(now)
	local pid=$DAEMON
	[ -z "$wrap" ] || pid=$(pgrep -n -f "$FTMOND -c $d/ftmon.conf" || echo $DAEMON)
	hwm=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
	cpu=$(awk -v hz="$(getconf CLK_TCK)" '{ printf "%.3f", ($14 + $15) / hz }' /proc/$pid/stat)
	kill "$DAEMON"
	wait "$DAEMON" || true
	DAEMON=
	[ "$off" = "$SIZE" ] || { echo "ftmond did not finish" >&2; exit 1; }
	[ "$(sqlite3 "$d/ftmon.db" 'SELECT count(*) FROM points')" = "$ROWS" ] ||
		{ echo "ftmond stored the wrong number of points" >&2; exit 1; }
	awk -v r="$ROWS" -v a="$t0" -v b="$t1" -v h="$hwm" -v c="$cpu" \
		'BEGIN { printf "ftmond %d %.3f %.0f %d %s\n", r, b - a, r / (b - a), h, c }'
}

# cputime CMD...: run CMD and append the CPU seconds it used (user +
# system, from /usr/bin/time) to its one output line.
cputime() {
	local out
	out=$(/usr/bin/time -f '%U %S' -o "$WORK/cpu.txt" "$@")
	echo "$out $(awk '{ printf "%.3f", $1 + $2 }' "$WORK/cpu.txt")"
}

run_python() {
	rm -f "$WORK/py.db"*
	cputime "$PYTHON" "$HERE/jsonl_python.py" "$WORK/py.db" "$FILE"
}

run_ceiling() {
	rm -f "$WORK/c.db"*
	cputime "$WORK/sqlite_ceiling" "$WORK/c.db" "$LINES" 3 10000
}

RES=$WORK/results.txt
: >"$RES"
for r in $(seq 1 "$R"); do
	f=$(run_ftmond)
	p=$(run_python)
	c=$(run_ceiling)
	echo "round $r: $f | $p | $c | load $(cut -d' ' -f1 /proc/loadavg)"
	echo "$r $f $p $c" >>"$RES"
done

"$PYTHON" - "$RES" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
# r ftmond ROWS S RATE HWM CPU python ROWS S RATE CPU ceiling ROWS S RATE CPU
f = [float(x[4]) for x in rows]; h = [int(x[5]) for x in rows]
fc = [float(x[2]) / float(x[6]) for x in rows]
p = [float(x[10]) for x in rows]; pc = [float(x[8]) / float(x[11]) for x in rows]
c = [float(x[15]) for x in rows]; cc = [float(x[13]) / float(x[16]) for x in rows]
def m(v, fmt="%.0f"):
    return (fmt + " [" + fmt + "-" + fmt + "]") % (statistics.median(v), min(v), max(v))
print("| measure | median [min-max] |")
print("|---|---|")
print("| ftmond points/s (start to stored) | %s |" % m(f))
print("| ftmond points per CPU-second | %s |" % m(fc))
print("| Python ingester points/s | %s |" % m(p))
print("| C SQLite ceiling rows/s | %s |" % m(c))
print("| Python points per CPU-second | %s |" % m(pc))
print("| C ceiling rows per CPU-second | %s |" % m(cc))
print("| ftmond / ceiling (per round) | %s |" % m([a / b for a, b in zip(f, c)], "%.2f"))
print("| ftmond / ceiling, per CPU-second (per round) | %s |" % m([a / b for a, b in zip(fc, cc)], "%.2f"))
print("| ftmond / Python, per CPU-second (per round) | %s |" % m([a / b for a, b in zip(fc, pc)], "%.2f"))
print("| ftmond / Python (per round) | %s |" % m([a / b for a, b in zip(f, p)], "%.2f"))
print("| Python / ceiling (per round) | %s |" % m([a / b for a, b in zip(p, c)], "%.2f"))
print("| ftmond peak RSS (VmHWM) KiB | %s |" % m(h))
PY
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"

if [ "${PROFILE:-0}" = 1 ]; then
	run_ftmond "perf record -g -o $WORK/perf.data" >/dev/null
	perf report -i "$WORK/perf.data" --no-children --percent-limit 2 --stdio 2>/dev/null |
		grep -E '^ +[0-9]' | head -25
fi
