#!/bin/sh
# bench/push.sh: the push path.  100,000 points to a push source over one
# connection, (a) as pipelined single-point `log` requests and (b) as
# batched requests (BATCH points each), in interleaved rounds (the order
# alternates each round; a fresh job per run), with points/s for each and
# the ratio inside each round.  Also reports the commits each run took
# (the push source's counter), which shows the per-turn batching, and the
# daemon's CPU time (utime + stime from /proc).
#
# Usage: bench/push.sh [BUILD_DIR]   (default: ./build, configured and built)
# Environment: POINTS (100000), BATCH (1000), ROUNDS (5).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
POINTS=${POINTS:-100000}
BATCH=${BATCH:-1000}
ROUNDS=${ROUNDS:-5}
T=$(mktemp -d /tmp/ftmon-bench-push.XXXXXX)
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$T"' EXIT
cat >"$T/ftmon.conf" <<EOC
[daemon]
database = $T/ftmon.db
socket = $T/ftmon.sock
log_level = warning
[source push]
type = push
EOC
"$build/ftmond" -c "$T/ftmon.conf" >"$T/ftmond.log" 2>&1 &
pid=$!
i=0
while [ ! -S "$T/ftmon.sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
commits() {
	"$build/ftmonctl" -s "$T/ftmon.sock" --json status |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["sources"][0]["counters"]["commits"])'
}
# the daemon's CPU time so far (utime + stime), in clock ticks
cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
# run MODE ROUND: one run, prints "MODE points/s commits daemon_cpu_ms"
run() {
	b=1
	[ "$1" = batched ] && b=$BATCH
	c0=$(commits)
	t0=$(cpu)
	pps=$(python3 "$here/../tests/helpers/pushpipe.py" "$T/ftmon.sock" "$1-$2" \
		--points "$POINTS" --batch "$b" |
		python3 -c 'import json,sys; j=json.load(sys.stdin); assert j["in_order"] and not j["errors"], j; print(j["points_per_s"])')
	echo "$1 $pps $(($(commits) - c0)) $((($(cpu) - t0) * 1000 / $(getconf CLK_TCK)))"
}
echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo '?')" \
	"points=$POINTS batch=$BATCH rounds=$ROUNDS; load: $(uptime | sed 's/.*load average: //')"
echo "round pipelined_pts/s commits cpu_ms batched_pts/s commits cpu_ms batched/pipelined"
r=1
while [ $r -le "$ROUNDS" ]; do
	if [ $((r % 2)) -eq 1 ]; then
		p=$(run pipelined "$r")
		q=$(run batched "$r")
	else
		q=$(run batched "$r")
		p=$(run pipelined "$r")
	fi
	set -- $p $q
	echo "$r $2 $3 $4 $6 $7 $8 $(python3 -c "print(round($6 / $2, 2))")"
	r=$((r + 1))
done
echo "# load after: $(uptime | sed 's/.*load average: //')"
