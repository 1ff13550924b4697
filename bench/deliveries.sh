#!/bin/sh
# bench/deliveries.sh: 10,000 pending webhook deliveries to a local receiver
# (tests/helpers/hookrecv.py, which accepts everything).  Measures the drain
# rate (pending -> 0, from the daemon's start) and the control socket's
# `ping` round trip (one persistent connection, a ping every 10 ms) while
# they drain: median and max.  Rounds alternate concurrency 4 (the default)
# and 16.
#
#   bench/deliveries.sh [BUILD_DIR] [N] [ROUNDS]     (defaults: build 10000 2)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)
N=${2:-10000}
ROUNDS=${3:-2}
T=$(mktemp -d /tmp/ftmon-bench-deliveries.XXXXXX)
RECV_PID=
DPID=
cleanup() {
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null
	[ -n "$RECV_PID" ] && kill "$RECV_PID" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

wait_for() { # wait_for SECONDS CMD...
	_end=$(($(date +%s) + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -lt "$_end" ] || return 1
		sleep 0.05
	done
}

python3 "$top/tests/helpers/hookrecv.py" --port-file "$T/recv.port" --log /dev/null &
RECV_PID=$!
wait_for 10 test -s "$T/recv.port"
URL="http://127.0.0.1:$(cat "$T/recv.port")/hook"

conf() { # conf CONCURRENCY
	cat >"$T/ftmon.conf" <<EOF
[daemon]
database = $T/ftmon.db
socket = $T/ftmon.sock
log_level = notice
[hook bench]
type = webhook
url = $URL
format = json
concurrency = $1
EOF
}

# The ping prober: prints "median_ms max_ms count" when pending reaches 0.
probe() {
	python3 - "$T/ftmon.sock" "$T/ftmon.db" <<'EOF'
import json, socket, sqlite3, statistics, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
f = s.makefile("rb")
db = sqlite3.connect(sys.argv[2], timeout=5)
lat, i, t0 = [], 0, time.monotonic()
while True:
    i += 1
    a = time.perf_counter()
    s.sendall(b'{"id": %d, "cmd": "ping"}\n' % i)
    f.readline()
    lat.append((time.perf_counter() - a) * 1000)
    if i % 20 == 0:
        n = db.execute("SELECT count(*) FROM deliveries WHERE state = 'pending'").fetchone()[0]
        if n == 0:
            break
    if time.monotonic() - t0 > 600:
        sys.exit("did not drain in 600 s")
    time.sleep(0.01)
print("%.2f %.2f %d" % (statistics.median(lat), max(lat), len(lat)))
EOF
}

round() { # round CONCURRENCY
	rm -f "$T"/ftmon.db*
	conf "$1"
	# Create the database, then seed N pending rows as the notifier would.
	"$build/ftmond" -c "$T/ftmon.conf" >"$T/ftmond.log" 2>&1 &
	DPID=$!
	wait_for 10 test -S "$T/ftmon.sock"
	kill "$DPID"
	wait "$DPID" || true
	DPID=
	sqlite3 "$T/ftmon.db" "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $N)
		INSERT INTO deliveries (event_id, hook, event, payload, created_at, updated_at)
		SELECT 'ev_' || i || '_bench', 'bench', 'job.finished',
		       '{\"id\":\"ev_' || i || '_bench\",\"event\":\"job.finished\",\"job\":{\"name\":\"bench/' || i || '\"}}',
		       0, 0 FROM n;"
	start=$(date +%s.%N)
	"$build/ftmond" -c "$T/ftmon.conf" >>"$T/ftmond.log" 2>&1 &
	DPID=$!
	wait_for 10 test -S "$T/ftmon.sock"
	pings=$(probe)
	end=$(date +%s.%N)
	kill "$DPID"
	wait "$DPID" || true
	DPID=
	delivered=$(sqlite3 "$T/ftmon.db" "SELECT count(*) FROM deliveries WHERE state = 'delivered'")
	echo "$1 $N $delivered $start $end $pings" | awk '{
		t = $5 - $4; printf "concurrency %2d: %d/%d delivered in %.2f s = %.0f/s; ping median %s ms, max %s ms (%d pings)\n",
		$1, $3, $2, t, $3 / t, $6, $7, $8 }'
}

echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo '?'); load: $(uptime | sed 's/.*load average: //')"
for r in $(seq 1 "$ROUNDS"); do
	echo "# round $r"
	round 4
	round 16
done
